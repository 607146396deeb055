import Compute
import Foundation
import Pipeline

/// The start of an ``EditPass`` from the clip inverted into the model's noise
/// (``EditPass/Start/inversion(_:)``): where the inversion comes from, and how much of it the
/// edit runs.
///
/// An inversion is made once per clip and model and may serve any number of edits (as ZETA's
/// demo does): ``Source/file(_:)`` reuses one that ``Inversion/write(to:pipeline:)`` saved, and
/// refuses one made from another clip, model or schedule.
public struct InversionStart: Sendable, Equatable {
    public enum Source: Sendable, Equatable {
        /// Invert the clip when the pass runs; a DDPM inversion draws its noisy latents from the
        /// plan's noise source.
        case invert(InversionSettings)
        /// Read a saved inversion of the same clip (encoded the same way), model and schedule.
        case file(URL)
    }

    public var source: Source
    /// How much of the inversion's schedule the edit runs, in (0, 1]: it starts from x at step
    /// round(strength × N) from the end (default: all the inversion covers, its
    /// ``InversionSettings/startStep``); less keeps more of the clip.
    public var strength: Double?

    public init(_ source: Source, strength: Double? = nil) {
        self.source = source
        self.strength = strength
    }

    /// The steps the edit runs from an inversion made with `settings`.
    public func editSteps(_ settings: InversionSettings) -> Int {
        strength.map { max(1, Int(($0 * Double(settings.stepCount)).rounded())) } ?? settings.startStep
    }

    /// The inversion of `latents` (a clip's ``ClipLatents/latents``): made now, reporting its
    /// steps to `progress`, or read from the file and checked against the clip, model and schedule.
    /// - Throws: ``InversionError``; pipeline errors while inverting.
    public func inversion(of latents: Tensor, pipeline: AuffusionPipeline, noise: inout NoiseSource,
                          progress: (DenoiseProgress) -> Bool = { _ in true }) throws -> Inversion {
        switch source {
        case .invert(let settings):
            try Inversion(inverting: latents, settings: settings, pipeline: pipeline, noise: &noise, progress: progress)
        case .file(let url):
            try Inversion(contentsOf: url, for: latents, pipeline: pipeline)
        }
    }

    /// The inversion's settings as given, a saved one's read from its file's metadata alone (the
    /// rest is read and checked against the clip when the pass runs).
    /// - Throws: ``InversionError/unreadable(path:reason:)`` for a file that is not an inversion.
    public func declaredSettings() throws -> InversionSettings {
        switch source {
        case .invert(let settings): settings
        case .file(let url): try Inversion.settings(inFile: url)
        }
    }

    /// The inversion's settings (a saved one's are read and checked as ``inversion(of:pipeline:noise:progress:)`` does).
    func settings(for latents: Tensor, pipeline: AuffusionPipeline) throws -> InversionSettings {
        switch source {
        case .invert(let settings): settings
        case .file(let url): try Inversion(contentsOf: url, for: latents, pipeline: pipeline).settings
        }
    }

    /// Whether the pass runs the inversion itself (its steps count in the plan's progress).
    var inverts: Bool { if case .invert = source { true } else { false } }
}

extension Inversion {
    /// The mask constraint of an edit from this inversion of `clip` (its latents) that runs
    /// `steps` steps: after step i, outside `mask` the trajectory's latents at the step's landing
    /// point and, after the last step, the clip's own latents (a DDPM trajectory lands there only
    /// within rounding); inside, the model's. Rows of several prompts are blended alike.
    func keeping(outside mask: EditMask, clip: Tensor, steps: Int, pipeline: AuffusionPipeline) -> DenoiseRun.Constraint {
        let regenerate = mask.latentMask(shape: clip.shape, factor: pipeline.downsamplingFactor,
                                         parameters: pipeline.melParameters)        // [1, 4, h, w]
        let keep = regenerate.map { 1 - $0 }
        let trajectory = trajectory
        return { index, latents in
            let k = steps - 1 - index
            return keep * (k == 0 ? clip : trajectory.sliced(axis: 0, k..<(k + 1))) + regenerate * latents
        }
    }
}
