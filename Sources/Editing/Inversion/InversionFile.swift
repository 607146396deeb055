import Compute
import Foundation
import Pipeline
import Weights

/// An ``Inversion`` saved for reuse, so that one inversion serves any number of edits of a clip.
///
/// A safetensors file: `trajectory` `[K + 1, 4, h, w]` and, for DDPM, `noise_maps` `[K, 4, h, w]`
/// (float32), and the `__metadata__` strings
///
/// | key | value |
/// |---|---|
/// | `format` | `auffusion-inversion` |
/// | `version` | `1` |
/// | `settings` | ``InversionSettings`` as JSON |
/// | `clip`, `model` | ``InversionFingerprint`` of the clip's latents and of the model folder |
/// | `schedule` | a fingerprint of the DDIM timesteps and ᾱ the inversion stepped along |
///
/// For DDPM at 200 steps from 100 on Auffusion's 10.24 s canvas that is 201 × 64 KiB ≈ 12.6 MiB.
extension Inversion {
    static let format = "auffusion-inversion", version = "1"

    /// Writes the inversion to `url` atomically.
    /// - Throws: ``InversionError/unreadable(path:reason:)`` when the schedule cannot be rebuilt;
    ///   `AtomicFile.Error` when the file cannot be written.
    public func write(to url: URL, pipeline: AuffusionPipeline) throws {
        var tensors = ["trajectory": trajectory]
        tensors["noise_maps"] = noiseMaps
        let settingsJSON = String(decoding: try JSONEncoder().encode(settings), as: UTF8.self)
        try Safetensors.write(tensors, metadata: ["format": Self.format, "version": Self.version, "settings": settingsJSON,
                                                  "clip": clipFingerprint, "model": modelFingerprint,
                                                  "schedule": try scheduleFingerprint(pipeline: pipeline)], to: url)
    }

    /// Reads an inversion written by ``write(to:pipeline:)`` and checks that it was made from
    /// `latents` (a clip's ``ClipLatents/latents``) with `pipeline`'s model and schedule — and,
    /// when given, with `stepCount` steps.
    /// - Throws: ``InversionError/unreadable(path:reason:)`` for a file that is not an inversion;
    ///   ``InversionError/mismatch(path:what:)`` naming what differs.
    public init(contentsOf url: URL, for latents: Tensor, pipeline: AuffusionPipeline, stepCount: Int? = nil) throws {
        let path = url.path
        func unreadable(_ reason: String) -> InversionError { .unreadable(path: path, reason: reason) }
        let file = try Self.open(url)
        let (settings, fingerprints) = try Self.metadata(of: file, path: path)
        let (clip, model, schedule) = (fingerprints.clip, fingerprints.model, fingerprints.schedule)
        do { _ = try Self.schedule(settings, pipeline: pipeline, eta: 0) } catch { throw unreadable("its settings: \(error)") }
        let trajectory: Tensor, noiseMaps: Tensor?
        do {
            trajectory = try file.tensor("trajectory")
            noiseMaps = settings.method == .ddpm ? try file.tensor("noise_maps") : nil
        } catch { throw unreadable("\(error)") }
        let steps = settings.startStep
        guard trajectory.rank == 4, trajectory.shape[0] == steps + 1,
              Array(trajectory.shape.dropFirst()) == Array(latents.shape.dropFirst()),
              noiseMaps.map({ $0.shape == [steps] + Array(latents.shape.dropFirst()) }) ?? true else {
            throw unreadable("its tensors do not have the shapes its settings and the clip need")
        }
        self.init(settings: settings, trajectory: trajectory, noiseMaps: noiseMaps, clipFingerprint: clip, modelFingerprint: model)
        guard clip == InversionFingerprint.tensor(latents) else { throw InversionError.mismatch(path: path, what: "another clip") }
        guard model == (try InversionFingerprint.model(at: pipeline.directory.root)) else {
            throw InversionError.mismatch(path: path, what: "another model")
        }
        guard schedule == (try scheduleFingerprint(pipeline: pipeline)) else {
            throw InversionError.mismatch(path: path, what: "another noise schedule")
        }
        if let stepCount, stepCount != settings.stepCount {
            throw InversionError.mismatch(path: path, what: "a schedule of \(settings.stepCount) steps, not \(stepCount)")
        }
    }

    /// The settings a saved inversion was made with, from its metadata alone: what a front end
    /// reports and sets the edit's steps and guidance from before the run, which reads the rest
    /// and checks it against the clip, model and schedule (``init(contentsOf:for:pipeline:stepCount:)``).
    /// - Throws: ``InversionError/unreadable(path:reason:)`` for a file that is not an inversion.
    public static func settings(inFile url: URL) throws -> InversionSettings {
        try metadata(of: open(url), path: url.path).settings
    }

    private static func open(_ url: URL) throws -> Safetensors {
        do { return try Safetensors(url: url) } catch { throw InversionError.unreadable(path: url.path, reason: "\(error)") }
    }

    /// The settings and fingerprints of `file`, the settings read as strict JSON (no key twice,
    /// bounded nesting) and their values checked before any is used.
    private static func metadata(of file: Safetensors, path: String) throws
        -> (settings: InversionSettings, fingerprints: (clip: String, model: String, schedule: String)) {
        func unreadable(_ reason: String) -> InversionError { .unreadable(path: path, reason: reason) }
        let metadata = file.metadata
        guard metadata["format"] == format else { throw unreadable("it is not an inversion file (no \"format\": \"\(format)\")") }
        guard metadata["version"] == version else {
            throw unreadable("version \(metadata["version"] ?? "none") is not \(version)")
        }
        guard let text = metadata["settings"], let clip = metadata["clip"], let model = metadata["model"],
              let schedule = metadata["schedule"] else {
            throw unreadable("its settings or fingerprints are missing")
        }
        let settings: InversionSettings
        do {
            settings = try StrictJSON.decode(InversionSettings.self, from: Data(text.utf8))
            // A start step near Int.max would overflow the shape checks that follow.
            try settings.validate(trainingSteps: .max)
        } catch { throw unreadable("its settings: \(error)") }
        return (settings, (clip, model, schedule))
    }

    /// The DDIM timesteps and ᾱ of the inversion's schedule on `pipeline`'s configuration.
    private func scheduleFingerprint(pipeline: AuffusionPipeline) throws -> String {
        let ddim = try Self.schedule(settings, pipeline: pipeline, eta: 0)
        return InversionFingerprint.tensor(Tensor(shape: [ddim.timesteps.count + ddim.noiseSchedule.trainingSteps],
                                                   scalars: ddim.timesteps + ddim.noiseSchedule.alphasCumprod))
    }
}
