import Compute
import Schedulers

/// Where one run of the denoising loop starts: the initial latents, the timesteps it steps
/// through and a scheduler set up for them — the first of the loop's three extension points
/// (docs/architecture.md). Text-to-audio starts from noise
/// (``AuffusionPipeline/noiseStart(_:promptCount:sharing:noise:)``); edits of a clip start from its
/// latents noised part of the way, or from an inversion (`Editing`).
public struct DenoiseStart {
    /// `[P, 4, h, w]`: one row per prompt denoised together.
    public var latents: Tensor
    /// The timesteps to step through, largest first; possibly a tail of the schedule, or empty
    /// (a run with nothing to do returns ``latents``).
    public var timesteps: [Float]
    /// Set up for ``timesteps``; stepping mutates a copy, so one start can serve several runs.
    public var scheduler: any Scheduler

    public init(latents: Tensor, timesteps: [Float], scheduler: any Scheduler) {
        self.latents = latents
        self.timesteps = timesteps
        self.scheduler = scheduler
    }
}

/// How the initial latents of several prompts are drawn.
public enum InitialNoise: Sendable, Equatable {
    /// `randn([P, 4, h, w])`: different noise for every prompt (Auffusion's
    /// `Prompt2PromptPipeline` when no latents are passed).
    case perPrompt
    /// One `randn([1, 4, h, w])` for all prompts (the original prompt-to-prompt notebooks): the
    /// edited audio differs from the source only where the edit makes it.
    case shared
}

extension AuffusionPipeline {
    /// Text-to-audio's start: Gaussian latents `[P, 4, h, w]` times the scheduler's initial sigma
    /// on `request`'s canvas, at the first timestep of the full schedule of `request`'s sampler
    /// and step count (`StableDiffusionPipeline.prepare_latents`).
    /// - Throws: ``PipelineError`` for a bad request or a noise tensor of the wrong shape.
    public func noiseStart(_ request: GenerationRequest, promptCount: Int = 1, sharing: InitialNoise = .perPrompt,
                           noise: inout NoiseSource) throws -> DenoiseStart {
        try validate(request)
        var scheduler = try makeScheduler(request.scheduler)
        let timesteps = try scheduler.timesteps(stepCount: request.stepCount, strength: 1)
        let one = latentShape(canvasFrames: canvas(of: request).frames)
        let drawn: Tensor
        if sharing == .shared || promptCount == 1 {
            drawn = Tensor.concatenated(Array(repeating: try noise.next(shape: one), count: promptCount), axis: 0)
        } else {
            drawn = try noise.next(shape: [promptCount] + one.dropFirst())
        }
        return DenoiseStart(latents: drawn * scheduler.initNoiseSigma, timesteps: timesteps, scheduler: scheduler)
    }
}
