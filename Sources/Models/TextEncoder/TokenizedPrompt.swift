/// A prompt as token ids, ready for the text encoder, and what truncation cost it.
///
/// `ids` is `[BOS, t₁ … tₙ, EOS]`, followed by the pad id up to the tokenizer's maximum length
/// when padding was asked for. A prompt longer than `maxLength − 2` tokens keeps its first
/// `maxLength − 2` tokens (transformers' `truncation=True`, right side) and says how many it lost.
public struct TokenizedPrompt: Sendable, Equatable {
    /// The ids to feed the text encoder.
    public var ids: [Int]
    /// How many of `ids` are BOS, prompt tokens and EOS; the rest is padding.
    public var length: Int
    /// How many prompt tokens did not fit and were dropped.
    public var droppedTokenCount: Int

    public init(ids: [Int], length: Int, droppedTokenCount: Int) {
        self.ids = ids
        self.length = length
        self.droppedTokenCount = droppedTokenCount
    }

    /// Whether the prompt was cut to fit.
    public var wasTruncated: Bool { droppedTokenCount > 0 }
}

/// One word of a prompt, as prompt-to-prompt edits address it, with the token positions it
/// occupies in the tokenized prompt (position 0 is BOS).
public struct PromptWord: Sendable, Equatable {
    /// The word, exactly as it appears between two spaces of the prompt (it may be empty).
    public var text: String
    /// Positions in the tokenized prompt, ascending. Positions at or beyond the tokenizer's
    /// maximum length name tokens that truncation removed.
    public var tokenPositions: [Int]

    public init(text: String, tokenPositions: [Int]) {
        self.text = text
        self.tokenPositions = tokenPositions
    }
}
