import Models

/// A prompt-to-prompt edit as a value: which cross-attention rule, which words to reweight, and
/// when to replace. ``makeController(prompts:tokenizer:steps:layersPerEvaluation:)`` builds the
/// reference's controller from it.
///
/// | edit | reference (Auffusion prompt2prompt/ptp_utils.py) |
/// |---|---|
/// | `.swap`, no weights | `AttentionReplace` |
/// | `.refine`, no weights | `AttentionRefine` |
/// | `.none` with weights | `AttentionReweight(controller=None)` |
/// | `.swap`/`.refine` with weights | `AttentionReweight(controller=AttentionReplace/Refine(...))` |
public struct PromptEdit: Sendable {
    /// How the edited prompt's tokens relate to the source's.
    public enum Alignment: Sendable, Equatable {
        /// The same prompt (reweighting only): attention is taken from the source as is.
        case none
        /// Word swap: same word and token counts, changed words mapped token to token.
        case swap
        /// Refinement: tokens aligned globally, inserted tokens keep their own attention.
        case refine
    }

    public var alignment: Alignment
    /// Words of the edited prompt and their cross-attention factors (negative and zero allowed).
    public var weights: [(word: String, factor: Float)]
    public var schedule: ReplaceSchedule

    public init(alignment: Alignment, weights: [(word: String, factor: Float)] = [], schedule: ReplaceSchedule = ReplaceSchedule()) {
        self.alignment = alignment
        self.weights = weights
        self.schedule = schedule
    }

    /// The controller for `prompts` (the source first).
    /// - Throws: ``PromptEditError``.
    public func makeController(prompts: [String], tokenizer: CLIPTokenizer, steps: Int,
                               layersPerEvaluation: Int) throws -> AttentionEdit {
        guard steps >= 1 else { throw PromptEditError.invalid("an edit needs at least one step, got \(steps)") }
        if let weight = weights.first(where: { !$0.factor.isFinite }) {
            throw PromptEditError.invalid("the weight of \"\(weight.word)\" must be a number, got \(weight.factor)")
        }
        let tokens = prompts.map { PromptTokens($0, tokenizer: tokenizer) }
        guard let source = tokens.first, tokens.count >= 2 else {
            throw PromptEditError.invalid("an edit needs a source prompt and at least one edited prompt")
        }
        let edited = tokens.dropFirst()
        var rule: (any CrossAttentionEdit)?
        switch alignment {
        case .none:
            rule = nil
        case .swap:
            rule = WordSwap(mappers: try edited.map { try ReplacementMapper.mapper(from: source, to: $0) })
        case .refine:
            let pairs = edited.map { TokenAlignment.mapper(from: source.ids, to: $0.ids) }
            rule = Refinement(mappers: pairs.map(\.mapper), alphas: pairs.map(\.alphas))
        }
        if !weights.isEmpty {
            guard let target = edited.last, edited.count == 1 else {
                throw PromptEditError.invalid("reweighting takes exactly one edited prompt")
            }
            rule = Reweighting(equalizer: try target.equalizer(weights), previous: rule)
        }
        guard let rule else { throw PromptEditError.invalid("nothing to edit: give a word swap, a refinement or weights") }
        return try AttentionEdit(cross: rule, prompts: tokens, schedule: schedule, steps: steps,
                                 layersPerEvaluation: layersPerEvaluation)
    }
}
