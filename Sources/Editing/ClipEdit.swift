import AudioDSP
import Compute
import Pipeline
import Schedulers

/// The start of an edit of a clip, shared by ``StyleTransfer`` and ``Inpainting``: the tail of the
/// schedule that `strength` keeps, the Gaussian tensor added to the clip, and the first latents.
///
/// Matches `get_timesteps` and `prepare_latents` of diffusers 0.18.2's
/// `StableDiffusionImg2ImgPipeline` and `StableDiffusionInpaintPipeline`
/// (pipelines/stable_diffusion/pipeline_stable_diffusion_{img2img,inpaint}.py): the timesteps are
/// `scheduler.timesteps(stepCount:strength:)`; one tensor `n` is drawn from the noise source; the
/// latents start at `addNoise(clip, n, timesteps[0])`, or — inpainting at strength 1
/// (`is_strength_max`) — at `n · initNoiseSigma`.
struct ClipEdit {
    /// The request the loop runs: the caller's prompt, guidance, steps and sampler on the clip's canvas.
    let request: GenerationRequest
    /// A scheduler set up for ``timesteps``; its ``Scheduler/addNoise(original:noise:timestep:)``
    /// is what constraints use.
    var scheduler: any Scheduler
    /// The timesteps to step through, possibly empty (strength 0 on a scheduler other than PNDM).
    let timesteps: [Float]
    /// The Gaussian tensor `[1, 4, h, w]` drawn for this edit.
    let noise: Tensor
    /// The initial latents `[1, 4, h, w]`.
    let start: Tensor

    init(clip: ClipLatents, request base: GenerationRequest, strength: Double, pureNoiseAtFullStrength: Bool,
         pipeline: AuffusionPipeline, noise source: inout NoiseSource) throws {
        guard strength >= 0 && strength <= 1 else { throw EditingError.invalidStrength(strength) }
        var request = base
        request.canvasFrames = clip.canvasFrames
        request.duration = Double(clip.canvasFrames) / pipeline.melParameters.framesPerSecond
        try request.validate(framesPerSecond: pipeline.melParameters.framesPerSecond)
        self.request = request
        scheduler = try pipeline.makeScheduler(request.scheduler)
        timesteps = try scheduler.timesteps(stepCount: request.stepCount, strength: strength)
        noise = try source.next(shape: clip.latents.shape)                                  // [1, 4, h, w]
        if strength == 1 && pureNoiseAtFullStrength {
            start = noise * scheduler.initNoiseSigma
        } else if let first = timesteps.first {
            start = try scheduler.addNoise(original: clip.latents, noise: noise, timestep: first)
        } else {
            start = clip.latents
        }
    }

    /// Runs the loop from ``start`` with `constraint`, renders, and trims the audio to the clip.
    /// With no timesteps the clip's own latents are decoded (the clip through the codec).
    func run(clip: ClipLatents, pipeline: AuffusionPipeline, noise source: inout NoiseSource,
             constraint: DenoiseLoop.Constraint?, progress: (Progress) -> Bool) throws -> GenerationResult {
        var result: GenerationResult
        if timesteps.isEmpty {
            result = try pipeline.render(start, duration: request.duration)
        } else {
            var scheduler = scheduler
            result = try pipeline.denoise(request, from: start, timesteps: timesteps, scheduler: &scheduler,
                                          noise: &source, constraint: constraint, progress: progress)
        }
        result.audio = AudioBuffer(mono: Array(result.audio.channels[0].prefix(clip.audio.frameCount)),
                                   sampleRate: result.audio.sampleRate)
        return result
    }
}
