import Compute
import Pipeline

extension AuffusionPipeline {
    /// Prompt-to-prompt on an existing clip: `prompts` (the source first) denoise together from
    /// the clip's latents noised to t(`strength`) — SDEdit's start (``StyleTransfer``), with one
    /// Gaussian tensor shared by every prompt — under the controller `edit` makes.
    ///
    /// Beyond the reference (Auffusion's prompt2prompt/ starts from noise only). The controller's
    /// replace fractions apply to the steps the strength keeps. With an edit that changes nothing,
    /// each output is the style transfer of the clip under that prompt, up to the float rounding
    /// of the larger U-Net batch (`Tests/EditingTests/PromptToPromptOnClipTests.swift`).
    ///
    /// - Parameter blend: confines the edit to where its words attend (``LocalBlend``), as in a
    ///   run from noise.
    /// - Returns: one result per prompt, on the clip's canvas, audio trimmed to the clip, and the
    ///   attention the controller stored.
    /// - Throws: ``EditingError/invalidStrength(_:)``, ``PromptEditError``, pipeline and model errors.
    public func promptToPrompt(_ prompts: [String], edit: PromptEdit, on clip: ClipLatents, strength: Double,
                               request: GenerationRequest, blend: LocalBlend? = nil, noise: inout NoiseSource,
                               progress: (Progress) -> Bool = { _ in true }) throws -> PromptToPromptResult {
        let start = try ClipEdit(clip: clip, request: request, strength: strength, pureNoiseAtFullStrength: false,
                                 pipeline: self, noise: &noise)
        let controller = try edit.makeController(prompts: prompts, tokenizer: text.tokenizer, steps: start.controllerSteps,
                                                 layersPerEvaluation: unet.attentionLayerCount)
        let latents = try start.denoise(prompts: prompts, controller: controller, pipeline: self, noise: &noise,
                                        constraint: blend?.constraint(reading: controller), progress: progress)   // [P, 4, h, w]
        let outputs = try prompts.indices.map { index in
            var result = try render(latents.sliced(axis: 0, index..<(index + 1)), duration: canvas(of: start.request).duration)
            result.initialLatents = start.start
            result.audio = result.audio.prefix(frameCount: clip.audio.frameCount)
            return result
        }
        return PromptToPromptResult(outputs: outputs,
                                    initialLatents: Tensor.concatenated(Array(repeating: start.start, count: prompts.count), axis: 0),
                                    attentionStore: controller.attentionStore)
    }
}
