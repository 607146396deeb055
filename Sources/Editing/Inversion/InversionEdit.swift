import Compute
import Models
import Pipeline
import Schedulers

/// Where an edit from an ``Inversion`` starts: the loop's start, the noise its steps draw and the
/// constraint that keeps the source on the inversion (``Inversion/start(prompts:startStep:pipeline:)``).
public struct InvertedStart {
    /// x at the first timestep, one row per prompt `[P, 4, h, w]`; the last `startStep` timesteps
    /// of the inversion's schedule; DDIM on the model's configuration — η = 1 for a DDPM inversion
    /// (its noise comes from ``noise``), η = 0 for a DDIM one.
    public var start: DenoiseStart
    /// DDPM: the noise maps in the order the steps draw them, each repeated for the P prompts;
    /// DDIM: nothing queued (η = 0 draws nothing).
    public var noise: NoiseSource
    /// With several prompts, Direct Inversion: after each step the source row (row 0) is put back
    /// on the inversion's trajectory; `nil` for one prompt.
    public var constraint: DenoiseRun.Constraint?
}

extension Inversion {
    /// The start of an edit that runs `startStep` steps (the inversion's by default; at most that).
    ///
    /// - DDPM: ZETA's `inversion_reverse_process` (code/ddm_inversion/inversion_utils.py): from
    ///   x_{T_start}, DDIM with η = 1 whose noise at the step into x_k is z_k — `reverse_step_with_custom_noise`
    ///   (models.py) adds `η·σ_t·z` with σ_t² = (1−ᾱ_p)/(1−ᾱ_t)·(1−ᾱ_t/ᾱ_p) and takes the direction
    ///   `√(1−ᾱ_p−η·σ_t²)·ε`, which is diffusers' DDIM step at η = 1.
    /// - DDIM: from the inverted x_{T_start}, DDIM with η = 0 (PnP Inversion's edit).
    /// - Several prompts (the source first): Direct Inversion (PnP's
    ///   `direct_inversion_p2p_guidance_forward`, models/p2p/p2p_guidance_forward.py) adds to the
    ///   source row after each step an offset that puts it on the trajectory in exact arithmetic;
    ///   here the row is set to the trajectory, which needs no offset pass (N guided U-Net
    ///   evaluations fewer) and does not let each step's rounding grow through the next (with the
    ///   offsets the tiny test model's source ends 2.8e-3 off the clip's latents). Applied to DDPM
    ///   inversions too, where it keeps the source exact when the edit's guidance differs from the
    ///   inversion's.
    /// - Throws: ``InversionError/startBeyondInversion(requested:available:)``, pipeline errors.
    public func start(prompts: Int = 1, startStep: Int? = nil, pipeline: AuffusionPipeline) throws -> InvertedStart {
        let available = settings.startStep, steps = startStep ?? available
        guard (1...available).contains(steps) else { throw InversionError.startBeyondInversion(requested: steps, available: available) }
        let ddim = try Self.schedule(settings, pipeline: pipeline, eta: noiseMaps == nil ? 0 : 1)
        let rows = { (tensor: Tensor) in Tensor.concatenated(Array(repeating: tensor, count: prompts), axis: 0) }
        var queued: [Tensor] = []
        if let noiseMaps {
            queued = (0..<steps).reversed().map { rows(noiseMaps.sliced(axis: 0, $0..<($0 + 1))) }
        }
        let trajectory = trajectory
        let constraint: DenoiseRun.Constraint? = prompts < 2 ? nil : { index, latents in
            let k = steps - 1 - index
            return Tensor.concatenated([trajectory.sliced(axis: 0, k..<(k + 1)), latents.sliced(axis: 0, 1..<prompts)], axis: 0)
        }
        return InvertedStart(start: DenoiseStart(latents: rows(trajectory.sliced(axis: 0, steps..<(steps + 1))),
                                                 timesteps: Array(ddim.timesteps.suffix(steps)), scheduler: ddim),
                             noise: try NoiseSource(tensors: queued), constraint: constraint)
    }

    /// Regenerates the clip under `request`'s prompt, guidance, rescale and negative prompt from
    /// the inversion (ZETA's text-based edit for DDPM; a plain DDIM run for DDIM). An empty prompt
    /// runs the unconditional prediction alone, as the inversion does. With the source prompt and
    /// the inversion's guidance it reconstructs the clip's latents. The request's step count,
    /// scheduler and canvas are not used: the inversion's are.
    /// - Returns: the final latents `[1, 4, h, w]`.
    public func edit(_ request: GenerationRequest, startStep: Int? = nil, pipeline: AuffusionPipeline,
                     progress: (DenoiseProgress) -> Bool = { _ in true }) throws -> Tensor {
        let start = try self.start(startStep: startStep, pipeline: pipeline)
        let conditioning = try pipeline.inversionConditioning(prompt: request.prompt, guidance: request.guidanceScale,
                                                              negativePrompt: request.negativePrompt, rescale: request.guidanceRescale)
        var run = try DenoiseRun(pipeline: pipeline, start: start.start, conditioning: conditioning, noise: start.noise,
                                 speed: request.speed)
        return try run.finish(progress: progress)
    }

    /// Prompt-to-prompt from the inversion: `prompts` (the source, then the edited prompt)
    /// denoise together from x_{T_start} under `edit`'s controller, the source kept on the
    /// trajectory (Direct Inversion), and `blend` confining the edit after that, as PnP applies
    /// `step_callback` after the offset. The controller counts the steps that run.
    /// - Returns: the final latents `[P, 4, h, w]` and the controller (its attention store).
    public func promptToPrompt(_ prompts: [String], edit: PromptEdit, request: GenerationRequest, startStep: Int? = nil,
                               blend: LocalBlend? = nil, pipeline: AuffusionPipeline,
                               progress: (DenoiseProgress) -> Bool = { _ in true }) throws -> (latents: Tensor, controller: AttentionEdit) {
        let start = try self.start(prompts: prompts.count, startStep: startStep, pipeline: pipeline)
        let controller = try edit.makeController(prompts: prompts, tokenizer: pipeline.tokenizer,
                                                 steps: start.start.timesteps.count, layersPerEvaluation: pipeline.unetConfiguration.attentionLayerCount)
        let pin = start.constraint, confine = blend?.constraint(reading: controller)
        let constraint: DenoiseRun.Constraint = { index, latents in
            let pinned = try pin?(index, latents) ?? latents
            return try confine?(index, pinned) ?? pinned
        }
        var run = try DenoiseRun(pipeline: pipeline, start: start.start,
                                 conditioning: try pipeline.conditioning(prompts, request: canvasRequest(request, pipeline: pipeline)),
                                 constraint: constraint, controller: controller, noise: start.noise, speed: request.speed)
        return (try run.finish(progress: progress), controller)
    }

    /// `request` on the inversion's canvas, its whole length.
    private func canvasRequest(_ template: GenerationRequest, pipeline: AuffusionPipeline) -> GenerationRequest {
        var request = template
        request.canvasFrames = trajectory.shape[3] * pipeline.downsamplingFactor
        request.duration = Double(request.canvasFrames ?? 0) / pipeline.melParameters.framesPerSecond
        return request
    }
}
