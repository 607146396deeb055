import Compute

/// The text side of one run, built once for every edit: the embeddings of one prompt, or of the
/// prompts of a prompt-to-prompt batch (the source first), with the guidance that combines them.
///
/// Port of the prompt encoding of Auffusion `auffusion_pipeline.py` `AuffusionPipeline._encode_prompt`
/// and of `prompt2prompt/pipeline_prompt2prompt.py`, which encodes every prompt of the batch the
/// same way (``TextConditioner`` says how each layout encodes). The classifier-free-guidance batch
/// is laid out `[unconditional…, conditional…]` (docs/architecture.md).
public struct Conditioning: Sendable {
    /// The prompts, one row each of ``conditional``.
    public let prompts: [String]
    /// `[P, rows, width]` embeddings of the prompts.
    public let conditional: Tensor
    /// `[P, rows, width]` unconditional embeddings, present when guidance runs.
    public let unconditional: Tensor?
    /// Classifier-free guidance scale; guidance runs when ``unconditional`` is present.
    public let guidanceScale: Float
    /// `guidance_rescale` φ, 0 = off.
    public let guidanceRescale: Float
    /// Tokens dropped to fit the text encoder's 77, the most of any prompt.
    public let droppedTokenCount: Int

    /// Conditioning from embeddings already made: an inversion's pass on the unconditional
    /// embedding alone (`Editing`); ``AuffusionPipeline/conditioning(_:request:)`` makes the others.
    public init(prompts: [String], conditional: Tensor, unconditional: Tensor?, guidanceScale: Float,
                guidanceRescale: Float = 0, droppedTokenCount: Int = 0) {
        self.prompts = prompts
        self.conditional = conditional
        self.unconditional = unconditional
        self.guidanceScale = guidanceScale
        self.guidanceRescale = guidanceRescale
        self.droppedTokenCount = droppedTokenCount
    }

    /// The number of prompts denoised together.
    public var promptCount: Int { conditional.shape[0] }
    /// Rows of one prompt's embeddings (the keys cross-attention sees).
    public var tokenRows: Int { conditional.shape[1] }
    /// Whether a step evaluates the U-Net on both halves and combines them.
    public var usesGuidance: Bool { unconditional != nil }
    /// The U-Net's context for one step: `[2P, rows, width]` with guidance, else `[P, rows, width]`.
    var context: Tensor {
        guard let unconditional else { return conditional }
        return Tensor.concatenated([unconditional, conditional], axis: 0)
    }
}

extension AuffusionPipeline {
    /// The conditioning of `prompts` (one for a generation, the source first for prompt-to-prompt)
    /// under `request`'s guidance, negative prompt and `unconditional` switch; `request.prompt`
    /// itself is not read.
    /// - Throws: ``PipelineError/invalidRequest(_:)`` for no prompt, ``PipelineError/invalidValue(field:reason:)``
    ///   (`prompt`) for an empty one; model errors.
    public func conditioning(_ prompts: [String], request: GenerationRequest) throws -> Conditioning {
        guard !prompts.isEmpty else { throw PipelineError.invalidRequest("no prompt to condition on") }
        if request.unconditional {
            let zeros = Tensor.zeros(try text.embeddingShape)
            return Conditioning(prompts: prompts, conditional: .concatenated(Array(repeating: zeros, count: prompts.count), axis: 0),
                                unconditional: nil, guidanceScale: 1, guidanceRescale: 0, droppedTokenCount: 0)
        }
        for prompt in prompts {
            var checked = request
            checked.prompt = prompt
            try validate(checked)
        }
        let encoded = try prompts.map { try text.encode($0) }
        let unconditional = request.usesGuidance
            ? Tensor.concatenated(Array(repeating: try text.unconditional(negativePrompt: request.negativePrompt), count: prompts.count),
                                  axis: 0) : nil
        return Conditioning(prompts: prompts, conditional: .concatenated(encoded.map(\.embeddings), axis: 0),
                            unconditional: unconditional, guidanceScale: request.guidanceScale,
                            guidanceRescale: request.guidanceRescale,
                            droppedTokenCount: encoded.map(\.tokens.droppedTokenCount).max() ?? 0)
    }
}
