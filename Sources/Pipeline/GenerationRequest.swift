import Schedulers

/// What to generate: the text, the sampler and the length.
///
/// Defaults are `AuffusionPipeline.__call__`'s: 100 steps, guidance 7.5, no rescale, the folder's
/// scheduler, and the model's own canvas (``AuffusionPipeline/canvasFrames``: 1024 frames = 10.24 s
/// for the released models), of which the first 10 s are kept.
public struct GenerationRequest: Sendable, Equatable {
    /// The prompt. With ``unconditional`` it is ignored.
    public var prompt: String
    /// What to steer away from; `nil` uses the layout's unconditional embedding.
    public var negativePrompt: String?
    /// Generate without text: zero conditioning and guidance 1.
    public var unconditional = false
    /// Denoising steps (PNDM makes N + 1 U-Net evaluations).
    public var stepCount = 100
    /// Classifier-free guidance scale; guidance is off at 1 or below.
    public var guidanceScale: Float = 7.5
    /// `guidance_rescale` φ (Lin et al. 2023, eq. 16), 0 = off.
    public var guidanceRescale: Float = 0
    /// Output length in seconds; `nil`: the whole canvas, at most 10 s. Without ``canvasFrames``,
    /// a duration beyond the model's canvas (up to ``AuffusionPipeline/longestDuration``) gets a
    /// canvas as long, denoised in windows (``AuffusionPipeline/canvas(of:)``); with it, at most that canvas.
    public var duration: Double?
    /// Spectrogram frames of the canvas, a multiple of 8; `nil`: the model's canvas, or as many
    /// as ``duration`` needs.
    public var canvasFrames: Int?
    /// The sampler; `nil` uses the model folder's `scheduler_config.json`.
    public var scheduler: SchedulerKind?
    /// How the windows of a canvas wider than the model's are joined at each step.
    public var windowJoin = LatentWindows.Join.crossfade
    /// The approximations the run may make to go faster (none by default).
    public var speed = SpeedOptions.exact

    public init(prompt: String) { self.prompt = prompt }

    /// Whether classifier-free guidance runs (two U-Net halves per step).
    public var usesGuidance: Bool { !unconditional && guidanceScale > 1 }

    /// Checks the settings that need no model: steps, guidance, rescale, speed, and a run from
    /// noise no longer than ``AuffusionPipeline/longestDuration``.
    /// - Throws: ``PipelineError/invalidValue(field:reason:)`` naming the field.
    public func validateSettings() throws {
        func fail(_ field: String, _ reason: String) -> PipelineError { .invalidValue(field: field, reason: reason) }
        guard stepCount >= 1 else { throw fail("steps", "must be at least 1, got \(stepCount)") }
        // Before the canvas is sized from it; a duration that is a number is checked against the canvas.
        if let duration, !duration.isFinite { throw fail("duration", "must be a finite number of seconds, got \(duration)") }
        if canvasFrames == nil, let duration, duration > AuffusionPipeline.longestDuration {
            throw fail("duration", "must be at most \(Int(AuffusionPipeline.longestDuration)) s, got \(duration); make longer audio in parts")
        }
        guard guidanceScale.isFinite, guidanceScale >= 0 else { throw fail("guidance", "must be a non-negative number, got \(guidanceScale)") }
        guard guidanceRescale >= 0, guidanceRescale <= 1 else { throw fail("guidance_rescale", "must be in [0, 1], got \(guidanceRescale)") }
        try speed.validate()
    }

    /// Checks the request on a canvas of `canvasFrames` frames kept for `duration` seconds (the
    /// request's values or the model's defaults) at `framesPerSecond` frames per second; its
    /// settings are ``validateSettings()``'s to check.
    /// - Throws: ``PipelineError/invalidValue(field:reason:)`` naming the field.
    func validate(canvasFrames: Int, duration: Double, framesPerSecond: Double) throws {
        func fail(_ field: String, _ reason: String) -> PipelineError { .invalidValue(field: field, reason: reason) }
        guard canvasFrames > 0, canvasFrames % 8 == 0 else {
            throw fail("canvas", "must be a positive multiple of 8 frames, got \(canvasFrames)")
        }
        let canvasSeconds = Double(canvasFrames) / framesPerSecond
        guard canvasSeconds <= AuffusionPipeline.longestDuration + 1e-9 else {
            throw fail("canvas", "must be at most \(Int(AuffusionPipeline.longestDuration)) s (\(Int(AuffusionPipeline.longestDuration * framesPerSecond)) frames), got \(canvasFrames) frames")
        }
        guard duration > 0, duration <= canvasSeconds + 1e-9 else {
            throw fail("duration", "must be in (0, \(canvasSeconds)] seconds (the canvas is \(canvasFrames) frames), got \(duration)")
        }
        guard duration * framesPerSecond >= 1 else {
            throw fail("duration", "must be at least one frame of the model (\(1 / framesPerSecond) s), got \(duration)")
        }
        if !unconditional && usesGuidance && prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
            throw fail("prompt", "is empty; give a prompt, or generate unconditionally")
        }
    }
}
