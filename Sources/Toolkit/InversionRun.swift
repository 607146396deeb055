import Editing
import Foundation
import Pipeline

/// A clip inverted once into the model's noise and saved, as `auffusion invert` and the server
/// make it, so that any number of edits start from it (``InversionStart/Source/file(_:)``).
public struct InversionRun: Sendable {
    public var settings: InversionSettings
    /// The seed of the noisy latents a DDPM inversion draws.
    public var seed: UInt64

    public init(_ settings: InversionSettings, seed: UInt64) {
        self.settings = settings
        self.seed = seed
    }

    /// Inverts `clip` (read from `input`), writes the inversion to `outputs.inversion`, and returns
    /// the run's record: the source prompt, steps and guidance of the inversion, and its
    /// `method`, `start_step` and file size (`bytes`) in the details. `encoding` hears each window
    /// of the clip encoded, `progress` each step inverted; either cancels by returning `false`.
    public func callAsFunction(clip: EditClip, input: URL, pipeline: AuffusionPipeline, outputs: RunOutputs, started: Date,
                               encoding: (RenderProgress) -> Bool = { _ in true },
                               progress: (DenoiseProgress) -> Bool = { _ in true }) throws -> RunRecord {
        var noise = NoiseSource(seed: seed), posterior: NoiseSource?
        let latents = try clip.latents(pipeline: pipeline, posteriorNoise: &posterior, progress: encoding).latents
        let inversion = try InversionStart(.invert(settings)).inversion(of: latents, pipeline: pipeline, noise: &noise, progress: progress)
        var record = RunRecord(command: "invert", seed: seed, outputs: try outputs.write(inversion, pipeline: pipeline),
                               elapsed: Date().timeIntervalSince(started), input: input)
        (record.prompt, record.steps, record.guidance) = (settings.sourcePrompt, settings.stepCount, settings.guidance)
        let bytes = outputs.inversion.flatMap { try? FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int } ?? 0
        record.details = ["method": .string(settings.method.rawValue), "start_step": .number(Double(settings.startStep)),
                          "bytes": .number(Double(bytes))]
        return record
    }
}
