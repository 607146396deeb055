import Pipeline

/// Style transfer by SDEdit (Meng et al. 2022, "SDEdit: Guided Image Synthesis and Editing with
/// Stochastic Differential Equations", §3): noise the clip part of the way and denoise it under a
/// new prompt.
///
/// Matches diffusers 0.18.2 `StableDiffusionImg2ImgPipeline.__call__`
/// (pipelines/stable_diffusion/pipeline_stable_diffusion_img2img.py) as Auffusion's
/// `notebooks/img2img.ipynb` runs it, with the posterior mean (``ClipLatents``):
/// `timesteps = get_timesteps(N, strength)`, `x = add_noise(z₀, n, timesteps[0])`, then the
/// guided loop over that tail, decode, and the audio trimmed to the clip.
///
/// Quirks kept for parity (docs/reference.md §7.3): with PNDM the slice drops the repeated warm-up entry, so a
/// strength below 1 runs with one step of lag; strength 0 keeps PNDM one step at t = 1 + offset
/// (a light re-denoise of the almost clean clip), and leaves the other schedulers no step at all,
/// in which case the clip is returned through the codec (decoded from its latents; diffusers
/// would fail on the empty slice). Strength 1 still starts from the clip noised to t ≈ T, as
/// diffusers does, so a trace of it can survive.
///
/// ```swift
/// var none: NoiseSource? = nil
/// let clip = try ClipLatents(encoding: input, pipeline: pipeline, posteriorNoise: &none)
/// var noise = NoiseSource(seed: 42)
/// let result = try StyleTransfer(strength: 0.5).run(on: clip, request: GenerationRequest(prompt: "a cat meowing"),
///                                                   pipeline: pipeline, noise: &noise)
/// ```
public struct StyleTransfer: Sendable {
    /// How much of the schedule to run, 0…1: 0 keeps the clip, 1 nearly ignores it.
    public var strength: Double

    public init(strength: Double) { self.strength = strength }

    /// The pass this edit is (``EditPass/styleTransfer(strength:request:)``).
    public func pass(_ request: GenerationRequest) -> EditPass { .styleTransfer(strength: strength, request: request) }

    /// Restyles `clip` under `request`'s prompt (its step count, guidance and sampler; its canvas
    /// and duration come from the clip): a plan of one pass.
    ///
    /// - Parameter noise: supplies the one tensor `[1, 4, h, w]` added to the clip's latents.
    /// - Returns: the result on the whole canvas, with ``GenerationResult/audio`` trimmed to the clip.
    /// - Throws: ``EditingError/invalidStrength(_:)`` before anything runs; ``EditPlanError``,
    ///   ``PipelineError`` and model errors.
    public func run(on clip: ClipLatents, request: GenerationRequest, pipeline: AuffusionPipeline,
                    noise: inout NoiseSource, progress: (DenoiseProgress) -> Bool = { _ in true }) throws -> GenerationResult {
        try EditingError.check(strength: strength)
        return try EditPlan([pass(request)]).run(clip: clip, pipeline: pipeline, noise: &noise) { $0.step(to: progress) }.output
    }
}
