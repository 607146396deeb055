import Compute
import Foundation
import Models
import Weights

/// A prompt as the U-Net sees it: its embeddings and how it was tokenized.
public struct EncodedPrompt: Sendable {
    /// `[1, 77·conditions, cross_attention_dim]`.
    public var embeddings: Tensor
    /// The tokenized prompt of the first text condition (unpadded in the adapter layout).
    public var tokens: TokenizedPrompt
    /// Each word of the prompt with its token positions (for prompt-to-prompt edits).
    public var words: [PromptWord]
}

/// Turns prompts into U-Net conditioning, in the way the model folder's layout prescribes.
///
/// - **Adapter layout** (Auffusion `auffusion_pipeline.py` `_encode_prompt`, docs/reference.md §3.3): the prompt
///   is tokenized *without padding* by `AutoTokenizer` (the fast CLIP tokenizer), encoded by CLIP,
///   the rows zero-padded (or cropped) to `condition_max_length`, then mapped by the condition
///   adapter; several conditions are concatenated along the token axis. The unconditional
///   embedding is **all zeros** unless a negative prompt is given. Prompts over 77 tokens crash
///   the reference; here they are truncated to BOS + 75 + EOS, and the result says so.
/// - **Standard layout** (diffusers' Stable Diffusion `_encode_prompt`, docs/reference.md §3.4): the slow
///   tokenizer pads and truncates to 77, CLIP encodes all 77 rows, and the unconditional
///   embedding is the encoding of the negative prompt, or of `""`.
public struct TextConditioner: Sendable {
    enum Encoder: Sendable {
        case standard(CLIPTokenizer, CLIPTextModel)
        case adapter([(tokenizer: CLIPTokenizer, encoder: CLIPTextModel, adapter: ConditionAdapter, rows: Int)])
    }

    let encoder: Encoder

    /// Loads the text encoder(s), tokenizer(s) and adapter(s) of a model folder.
    public init(_ layout: ModelDirectory.TextLayout) throws {
        switch layout {
        case .standard(let textEncoder, _):
            encoder = .standard(try Self.tokenizer(for: layout), try CLIPTextModel(contentsOf: textEncoder))
        case .adapter(let conditions):
            encoder = .adapter(try conditions.map { condition in
                (try CLIPTokenizer(contentsOf: condition.textEncoder, mode: .fast),
                 try CLIPTextModel(contentsOf: condition.textEncoder),
                 try ConditionAdapter(contentsOf: condition.adapter), condition.maxLength)
            })
        }
    }

    /// The tokenizer a layout's pipeline uses for its first condition, without loading any
    /// weights: the slow CLIP tokenizer of `tokenizer/` (diffusers' Stable Diffusion pipelines),
    /// or the fast one of `text_encoder_0/` (`AutoTokenizer` in Auffusion's pipeline).
    public static func tokenizer(for layout: ModelDirectory.TextLayout) throws -> CLIPTokenizer {
        switch layout {
        case .standard(_, let tokenizer): try CLIPTokenizer(contentsOf: tokenizer, mode: .slow)
        case .adapter(let conditions): try CLIPTokenizer(contentsOf: conditions[0].textEncoder, mode: .fast)
        }
    }

    /// The tokenizer of the first text condition.
    public var tokenizer: CLIPTokenizer {
        switch encoder {
        case .standard(let tokenizer, _): tokenizer
        case .adapter(let conditions): conditions[0].tokenizer
        }
    }

    /// The embeddings of `prompt`, `[1, rows, width]`.
    /// - Throws: ``TextEncoderError`` for a prompt or word over the tokenizer's length limits.
    public func encode(_ prompt: String) throws -> EncodedPrompt {
        try CLIPTokenizer.validate(prompt: prompt)
        switch encoder {
        case .standard(let tokenizer, let model):
            let tokens = tokenizer.encode(prompt, padding: .maxLength)
            return EncodedPrompt(embeddings: try model([tokens.ids]), tokens: tokens, words: tokenizer.words(in: prompt))
        case .adapter(let conditions):
            var parts: [Tensor] = []
            var firstTokens: TokenizedPrompt?
            for condition in conditions {
                let tokens = condition.tokenizer.encode(prompt, padding: .none)
                firstTokens = firstTokens ?? tokens
                let hidden = try condition.encoder([tokens.ids])                         // [1, n, C]
                parts.append(condition.adapter(Self.fitted(hidden, rows: condition.rows)))   // [1, rows, C′]
            }
            guard let tokens = firstTokens else { throw ModelError.invalidInput(model: "TextConditioner", reason: "no text condition") }
            return EncodedPrompt(embeddings: Tensor.concatenated(parts, axis: 1), tokens: tokens,
                                 words: conditions[0].tokenizer.words(in: prompt))
        }
    }

    /// Shape of the embeddings of any prompt, `[1, rows, width]`, known without running a model.
    public var embeddingShape: [Int] {
        switch encoder {
        case .standard(let tokenizer, let model):
            [1, tokenizer.maxLength, model.configuration.hiddenSize]
        case .adapter(let conditions):
            [1, conditions.reduce(0) { $0 + $1.rows }, conditions[0].adapter.configuration.crossAttentionDimension]
        }
    }

    /// The unconditional embeddings for classifier-free guidance, `[1, rows, width]`.
    public func unconditional(negativePrompt: String?) throws -> Tensor {
        if let negativePrompt { return try encode(negativePrompt).embeddings }
        switch encoder {
        case .standard:
            return try encode("").embeddings
        case .adapter:
            // `torch.zeros_like(prompt_embeds)`: zeros, not the adapter applied to zeros.
            return .zeros(embeddingShape)
        }
    }

    /// `[1, n, C]` zero-padded or cropped to `[1, rows, C]`.
    static func fitted(_ hidden: Tensor, rows: Int) -> Tensor {
        let count = hidden.shape[1], width = hidden.shape[2]
        if count >= rows { return hidden.sliced(axis: 1, 0..<rows) }
        return Tensor.concatenated([hidden, .zeros([1, rows - count, width])], axis: 1)
    }
}
