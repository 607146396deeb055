import AudioDSP
import Compute
import Models
import Pipeline
import Schedulers

/// The start of every edit pass that begins from known latents (a clip's or an earlier pass's):
/// the tail of the schedule that `strength` keeps, the Gaussian tensor added to the base latents,
/// and the first latents — SDEdit's start (Meng et al. 2022, §3).
///
/// Matches `get_timesteps` and `prepare_latents` of diffusers 0.18.2's
/// `StableDiffusionImg2ImgPipeline` and `StableDiffusionInpaintPipeline`
/// (pipelines/stable_diffusion/pipeline_stable_diffusion_{img2img,inpaint}.py): the timesteps are
/// `scheduler.timesteps(stepCount:strength:)`; one tensor `n` is drawn from the noise source; the
/// latents start at `addNoise(base, n, timesteps[0])`, or — inpainting at strength 1
/// (`is_strength_max`) — at `n · initNoiseSigma`.
struct NoisedStart {
    /// The timesteps, scheduler and first latents `[1, 4, h, w]`.
    let start: DenoiseStart
    /// The Gaussian tensor `[1, 4, h, w]` drawn for this edit.
    let noise: Tensor
    /// The clean latents `[1, 4, h, w]` the edit starts from.
    let base: Tensor

    /// - Parameter request: validated against the pipeline; its canvas must be the base's.
    init(base: Tensor, request: GenerationRequest, strength: Double, pureNoiseAtFullStrength: Bool,
         pipeline: AuffusionPipeline, noise source: inout NoiseSource) throws {
        guard strength >= 0 && strength <= 1 else { throw EditingError.invalidStrength(strength) }
        try pipeline.validate(request)
        self.base = base
        var scheduler = try pipeline.makeScheduler(request.scheduler)
        let timesteps = try scheduler.timesteps(stepCount: request.stepCount, strength: strength)
        noise = try source.next(shape: base.shape)                                          // [1, 4, h, w]
        let latents = if strength == 1 && pureNoiseAtFullStrength {
            noise * scheduler.initNoiseSigma
        } else if let first = timesteps.first {
            try scheduler.addNoise(original: base, noise: noise, timestep: first)
        } else {
            base
        }
        start = DenoiseStart(latents: latents, timesteps: timesteps, scheduler: scheduler)
    }

    /// The inpainting constraint: after step i, outside `mask` the base noised to
    /// `timesteps[i + 1]` (the base itself after the last step), inside the model's latents.
    /// Latents of several prompts `[P, 4, h, w]` are blended alike (broadcasting).
    func keepingBase(outside mask: EditMask, pipeline: AuffusionPipeline) -> DenoiseRun.Constraint {
        let regenerate = mask.latentMask(shape: base.shape, factor: pipeline.downsamplingFactor,
                                         parameters: pipeline.melParameters)        // [1, 4, h, w]
        let keep = regenerate.map { 1 - $0 }
        let (clean, added, timesteps, scheduler) = (base, noise, start.timesteps, start.scheduler)
        return { index, latents in
            let reference = index + 1 < timesteps.count
                ? try scheduler.addNoise(original: clean, noise: added, timestep: timesteps[index + 1]) : clean
            return keep * reference + regenerate * latents
        }
    }
}

extension DenoiseStart {
    /// The number of steps a prompt-to-prompt controller counts for this start: its replace
    /// fractions apply to the steps that run (the evaluations are the schedule's N + 1 rows).
    var controllerSteps: Int { max(timesteps.count - 1, 1) }

    /// This start with its latents repeated for `count` prompts, `[count, 4, h, w]`.
    func repeated(_ count: Int) -> DenoiseStart {
        guard count != latents.shape[0] else { return self }
        return DenoiseStart(latents: .concatenated(Array(repeating: latents, count: count), axis: 0),
                            timesteps: timesteps, scheduler: scheduler)
    }
}

extension AudioBuffer {
    /// The first `frameCount` samples of a mono buffer.
    func prefix(frameCount: Int) -> AudioBuffer {
        AudioBuffer(mono: Array(channels[0].prefix(frameCount)), sampleRate: sampleRate)
    }
}
