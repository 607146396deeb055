import AudioDSP
import Compute
import Models
import Pipeline
import Schedulers

/// The start of an edit, shared by ``StyleTransfer``, ``Inpainting``, prompt-to-prompt on a clip
/// and every pass of an ``EditPlan``: the tail of the schedule that `strength` keeps, the Gaussian
/// tensor added to the base latents, and the first latents.
///
/// Matches `get_timesteps` and `prepare_latents` of diffusers 0.18.2's
/// `StableDiffusionImg2ImgPipeline` and `StableDiffusionInpaintPipeline`
/// (pipelines/stable_diffusion/pipeline_stable_diffusion_{img2img,inpaint}.py): the timesteps are
/// `scheduler.timesteps(stepCount:strength:)`; one tensor `n` is drawn from the noise source; the
/// latents start at `addNoise(base, n, timesteps[0])`, or — inpainting at strength 1
/// (`is_strength_max`) — at `n · initNoiseSigma`.
struct ClipEdit {
    /// The request the loop runs: the caller's prompt, guidance, steps and sampler on the base's canvas.
    let request: GenerationRequest
    /// A scheduler set up for ``timesteps``; its ``Scheduler/addNoise(original:noise:timestep:)``
    /// is what constraints use.
    var scheduler: any Scheduler
    /// The timesteps to step through, possibly empty (strength 0 on a scheduler other than PNDM).
    let timesteps: [Float]
    /// The Gaussian tensor `[1, 4, h, w]` drawn for this edit.
    let noise: Tensor
    /// The clean latents `[1, 4, h, w]` the edit starts from (a clip's or an earlier pass's).
    let base: Tensor
    /// The initial latents `[1, 4, h, w]`.
    let start: Tensor

    init(clip: ClipLatents, request: GenerationRequest, strength: Double, pureNoiseAtFullStrength: Bool,
         pipeline: AuffusionPipeline, noise source: inout NoiseSource) throws {
        try self.init(base: clip.latents, canvasFrames: clip.canvasFrames, request: request, strength: strength,
                      pureNoiseAtFullStrength: pureNoiseAtFullStrength, pipeline: pipeline, noise: &source)
    }

    init(base: Tensor, canvasFrames: Int, request template: GenerationRequest, strength: Double,
         pureNoiseAtFullStrength: Bool, pipeline: AuffusionPipeline, noise source: inout NoiseSource) throws {
        guard strength >= 0 && strength <= 1 else { throw EditingError.invalidStrength(strength) }
        var request = template
        request.canvasFrames = canvasFrames
        request.duration = Double(canvasFrames) / pipeline.melParameters.framesPerSecond
        try pipeline.validate(request)
        self.request = request
        self.base = base
        scheduler = try pipeline.makeScheduler(request.scheduler)
        timesteps = try scheduler.timesteps(stepCount: request.stepCount, strength: strength)
        noise = try source.next(shape: base.shape)                                          // [1, 4, h, w]
        if strength == 1 && pureNoiseAtFullStrength {
            start = noise * scheduler.initNoiseSigma
        } else if let first = timesteps.first {
            start = try scheduler.addNoise(original: base, noise: noise, timestep: first)
        } else {
            start = base
        }
    }

    /// The inpainting constraint (spec §7.4): after step i, outside `mask` the base noised to
    /// `timesteps[i + 1]` (the base itself after the last step), inside the model's latents.
    /// Latents of several prompts `[P, 4, h, w]` are blended alike (broadcasting).
    func keepingBase(outside mask: EditMask, pipeline: AuffusionPipeline) -> DenoiseLoop.Constraint {
        let regenerate = mask.latentMask(shape: base.shape, factor: pipeline.codec.downsamplingFactor,
                                         parameters: pipeline.melParameters)        // [1, 4, h, w]
        let keep = regenerate.map { 1 - $0 }
        let (clean, added, timesteps, scheduler) = (base, noise, timesteps, scheduler)
        return { index, latents in
            let reference = index + 1 < timesteps.count
                ? try scheduler.addNoise(original: clean, noise: added, timestep: timesteps[index + 1]) : clean
            return keep * reference + regenerate * latents
        }
    }

    /// Runs the loop from ``start`` under the request's prompt and returns the final latents and
    /// the dropped token count; with no timesteps, ``start`` itself.
    func denoise(pipeline: AuffusionPipeline, noise source: inout NoiseSource, constraint: DenoiseLoop.Constraint?,
                 progress: (Progress) -> Bool) throws -> (latents: Tensor, droppedTokenCount: Int) {
        guard !timesteps.isEmpty else { return (start, 0) }
        var scheduler = scheduler
        return try pipeline.denoiseLatents(request, from: start, timesteps: timesteps, scheduler: &scheduler,
                                           noise: &source, constraint: constraint, progress: progress)
    }

    /// Runs the loop from ``start`` with `constraint`, renders, and trims the audio to the clip.
    /// With no timesteps the clip's own latents are decoded (the clip through the codec).
    func run(clip: ClipLatents, pipeline: AuffusionPipeline, noise source: inout NoiseSource,
             constraint: DenoiseLoop.Constraint?, progress: (Progress) -> Bool) throws -> GenerationResult {
        let (latents, dropped) = try denoise(pipeline: pipeline, noise: &source, constraint: constraint, progress: progress)
        var result = try pipeline.render(latents, duration: pipeline.canvas(of: request).duration)
        result.initialLatents = start
        result.droppedTokenCount = dropped
        result.audio = result.audio.prefix(frameCount: clip.audio.frameCount)
        return result
    }
}

extension AudioBuffer {
    /// The first `frameCount` samples of a mono buffer.
    func prefix(frameCount: Int) -> AudioBuffer {
        AudioBuffer(mono: Array(channels[0].prefix(frameCount)), sampleRate: sampleRate)
    }
}

extension ClipEdit {
    /// The number of steps a prompt-to-prompt controller of this edit counts: its replace
    /// fractions apply to the steps that run (the evaluations are the schedule's N + 1 rows).
    var controllerSteps: Int { max(timesteps.count - 1, 1) }

    /// Runs `prompts` together from ``start`` (the same start for every prompt) under
    /// `controller` and returns their final latents `[P, 4, h, w]`; with no timesteps, the start.
    func denoise(prompts: [String], controller: (any AttentionController)?, pipeline: AuffusionPipeline,
                 noise source: inout NoiseSource, constraint: DenoiseLoop.Constraint?,
                 progress: (Progress) -> Bool) throws -> Tensor {
        let starts = Tensor.concatenated(Array(repeating: start, count: prompts.count), axis: 0)   // [P, 4, h, w]
        guard !timesteps.isEmpty else { return starts }
        var scheduler = scheduler
        return try pipeline.promptToPromptLatents(prompts, request: request, from: starts, timesteps: timesteps,
                                                  scheduler: &scheduler, noise: &source, controller: controller,
                                                  constraint: constraint, progress: progress)
    }
}
