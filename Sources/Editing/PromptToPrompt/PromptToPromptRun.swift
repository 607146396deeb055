import Compute
import Models
import Pipeline
import Schedulers

/// What a prompt-to-prompt run produced: one generation per prompt (the source first). Not
/// `Sendable`: it shares the controller's mutable ``AttentionStore``.
public struct PromptToPromptResult {
    public var outputs: [GenerationResult]
    /// The initial latents `[P, 4, h, w]`.
    public var initialLatents: Tensor
    /// The attention the controller stored, when it records any (``AttentionEdit`` does): the
    /// per-word maps of `auffusion swap/reweight --maps`.
    public var attentionStore: AttentionStore?
}

/// How the prompts' initial latents are drawn.
public enum InitialNoise: Sendable, Equatable {
    /// `randn([P, 4, h, w])`: different noise for every prompt (Auffusion's
    /// `Prompt2PromptPipeline` when no latents are passed).
    case perPrompt
    /// One `randn([1, 4, h, w])` for all prompts (the original prompt-to-prompt notebooks): the
    /// edited audio differs from the source only where the edit makes it.
    case shared
}

extension AuffusionPipeline {
    /// Denoises `prompts` together (batch `[uncond×P, cond×P]`) under `controller`.
    ///
    /// Port of Auffusion prompt2prompt/pipeline_prompt2prompt.py `Prompt2PromptPipeline.__call__`
    /// (spec §8.1): diffusers' Stable Diffusion loop with the controller in every attention
    /// layer, `step_callback` given as `constraint` (``LocalBlend``), each prompt's latents
    /// decoded and vocoded. `request` supplies everything but the prompt.
    /// - Throws: `PipelineError`, ``PromptEditError``, model errors.
    public func promptToPrompt(_ prompts: [String], request: GenerationRequest, noise: inout NoiseSource,
                               initialNoise: InitialNoise = .perPrompt, controller: (any AttentionController)?,
                               constraint: DenoiseLoop.Constraint? = nil,
                               progress: (Progress) -> Bool = { _ in true }) throws -> PromptToPromptResult {
        guard !prompts.isEmpty else { throw PromptEditError.invalid("no prompts") }
        var scheduler = try makeScheduler(request.scheduler)
        let timesteps = try scheduler.setTimesteps(stepCount: request.stepCount)
        var shape = latentShape(canvasFrames: canvas(of: request).frames)
        let one = shape
        shape[0] = prompts.count
        let drawn = initialNoise == .shared
            ? Tensor.concatenated(Array(repeating: try noise.next(shape: one), count: prompts.count), axis: 0)
            : try noise.next(shape: shape)
        let initial = drawn * scheduler.initNoiseSigma                                                       // [P, 4, h, w]
        let latents = try promptToPromptLatents(prompts, request: request, from: initial, timesteps: timesteps,
                                                scheduler: &scheduler, noise: &noise, controller: controller,
                                                constraint: constraint, progress: progress)
        let outputs = try prompts.indices.map { index in
            try render(latents.sliced(axis: 0, index..<(index + 1)), duration: canvas(of: request).duration)
        }
        return PromptToPromptResult(outputs: outputs, initialLatents: initial,
                                    attentionStore: (controller as? any AttentionRecorder)?.attentionStore)
    }

    /// Denoises the latents `[P, 4, h, w]` of `prompts` (batch `[uncond×P, cond×P]`) from `start`
    /// through `timesteps` under `controller`, and returns the final latents `[P, 4, h, w]`: the
    /// loop of ``promptToPrompt(_:request:noise:initialNoise:controller:constraint:progress:)``
    /// for any start (a clip noised to t(strength), an earlier pass).
    func promptToPromptLatents(_ prompts: [String], request: GenerationRequest, from start: Tensor, timesteps: [Float],
                               scheduler: inout any Scheduler, noise: inout NoiseSource,
                               controller: (any AttentionController)?, constraint: DenoiseLoop.Constraint?,
                               progress: (Progress) -> Bool) throws -> Tensor {
        guard let first = prompts.first else { throw PromptEditError.invalid("no prompts") }
        var checked = request
        checked.prompt = first
        try validate(checked)
        let conditional = Tensor.concatenated(try prompts.map { try text.encode($0).embeddings }, axis: 0)   // [P, 77, C]
        guard conditional.shape[1] == PromptTokens.keyCount else {
            throw PromptEditError.invalid("prompt-to-prompt needs 77-token conditioning, this model gives \(conditional.shape[1])")
        }
        let unconditional = request.usesGuidance
            ? Tensor.concatenated(Array(repeating: try text.unconditional(negativePrompt: request.negativePrompt),
                                        count: prompts.count), axis: 0) : nil
        let loop = DenoiseLoop(unet: unet, conditional: conditional, unconditional: unconditional,
                               guidanceScale: request.guidanceScale, guidanceRescale: request.guidanceRescale)
        return try loop.run(latents: start, timesteps: timesteps, scheduler: &scheduler, random: &noise,
                            constraint: constraint, controller: controller, progress: progress)
    }
}
