import Compute
import Pipeline

extension AuffusionPipeline {
    /// Prompt-to-prompt on an existing clip: the source and the edited prompt denoise together
    /// from the clip's latents noised to t(`strength`) — SDEdit's start (``StyleTransfer``), with
    /// one Gaussian tensor shared by both — under the controller `edit` makes: an ``EditPlan`` of
    /// one ``EditPass``.
    ///
    /// Beyond the reference (Auffusion's prompt2prompt/ starts from noise only). The controller's
    /// replace fractions apply to the steps the strength keeps. With an edit that changes nothing,
    /// each output is the style transfer of the clip under that prompt, up to the float rounding
    /// of the larger U-Net batch (`Tests/EditingTests/PromptToPromptOnClipTests.swift`).
    ///
    /// - Parameters:
    ///   - prompts: the source prompt and the edited one.
    ///   - blend: confines the edit to where its words attend (``LocalBlend``), as in a run from noise.
    /// - Returns: both results, source first, on the clip's canvas, audio trimmed to the clip, and
    ///   the attention the controller stored.
    /// - Throws: ``EditingError/invalidStrength(_:)``, ``EditPlanError``, ``PromptEditError``, pipeline and model errors.
    public func promptToPrompt(_ prompts: [String], edit: PromptEdit, on clip: ClipLatents, strength: Double,
                               request: GenerationRequest, blend: LocalBlend? = nil,
                               noise: inout NoiseSource, progress: (DenoiseProgress) -> Bool = { _ in true }) throws -> PromptToPromptResult {
        try EditingError.check(strength: strength)
        guard prompts.count == 2 else { throw PromptEditError.invalid("an edit of a clip takes a source prompt and one edited prompt") }
        var target = request
        target.prompt = prompts[1]
        let attention = EditPass.Attention(sourcePrompt: prompts[0], edit: edit, blend: blend)
        let result = try EditPlan([.promptEdit(attention, request: target, start: .clip(strength: strength))])
            .run(clip: clip, pipeline: self, noise: &noise, renderSource: true) { $0.step(to: progress) }
        let outputs = [result.source ?? result.output, result.output]
        return PromptToPromptResult(outputs: outputs,
                                    initialLatents: .concatenated(outputs.map(\.initialLatents), axis: 0),
                                    attentionStore: result.attentionStore)
    }
}
