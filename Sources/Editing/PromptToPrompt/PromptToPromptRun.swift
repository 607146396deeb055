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

extension AuffusionPipeline {
    /// Denoises `prompts` together (batch `[uncond×P, cond×P]`) from noise under any attention
    /// controller — an edit, or a recorder of maps — and renders every prompt: the noise start,
    /// the prompts' conditioning and one ``DenoiseRun``.
    ///
    /// Port of Auffusion prompt2prompt/pipeline_prompt2prompt.py `Prompt2PromptPipeline.__call__`:
    /// diffusers' Stable Diffusion loop with the controller in every attention layer,
    /// `step_callback` given as `constraint` (``LocalBlend``), each prompt's latents decoded and
    /// vocoded. `request` supplies everything but the prompt. Edits of a clip, and edits within
    /// plans, are ``EditPass``es.
    /// - Throws: `PipelineError`, ``PromptEditError``, model errors.
    public func promptToPrompt(_ prompts: [String], request: GenerationRequest, noise: inout NoiseSource,
                               initialNoise: InitialNoise = .perPrompt, controller: (any AttentionController)?,
                               constraint: DenoiseRun.Constraint? = nil,
                               progress: (DenoiseProgress) -> Bool = { _ in true }) throws -> PromptToPromptResult {
        guard !prompts.isEmpty else { throw PromptEditError.invalid("no prompts") }
        let start = try noiseStart(request, promptCount: prompts.count, sharing: initialNoise, noise: &noise)
        let conditioning = try conditioning(prompts, request: request)
        let latents: Tensor
        do {    // the run holds the U-Net: it ends here, before rendering may load the VAE in its place
            var run = try DenoiseRun(pipeline: self, start: start, conditioning: conditioning, constraint: constraint,
                                     controller: controller, noise: noise, speed: request.speed)
            latents = try run.finish(progress: progress)
            noise = run.noise
        }
        let outputs = try prompts.indices.map { index in
            var result = try render(latents.sliced(axis: 0, index..<(index + 1)), duration: canvas(of: request).duration,
                                    products: request.speed.products)
            result.droppedTokenCount = conditioning.droppedTokenCount
            return result
        }
        return PromptToPromptResult(outputs: outputs, initialLatents: start.latents,
                                    attentionStore: (controller as? any AttentionRecorder)?.attentionStore)
    }
}
