/// When edited attention replaces the edited prompts' own: fractions of the run.
///
/// Port of Auffusion prompt2prompt/ptp_utils.py `get_time_words_attention_alpha` and
/// `update_alpha_time_word` (docs/reference.md §8.3). Cross-attention: a table of `N + 1` rows (one per U-Net
/// evaluation, N = steps) by edited prompt by key; rows `[⌊b₀(N+1)⌋, ⌊b₁(N+1)⌋)` are 1 for every key
/// under the default bounds, and a word's own bounds override its tokens' columns. Self-attention:
/// evaluations `⌊N s₀⌋ ≤ step < ⌊N s₁⌋`.
public struct ReplaceSchedule: Sendable, Equatable {
    /// `(start, end)` fractions in [0, 1]; a single number `b` means `(0, b)`.
    public var crossDefault: ClosedRange<Double>
    /// Per-word cross bounds, by the word's text in the edited prompt(s).
    public var crossWords: [String: ClosedRange<Double>]
    public var selfRange: ClosedRange<Double>

    /// The default fractions of the run, as prompt-to-prompt's examples use them: cross-attention
    /// replaced for the first 80 %, self-attention for the first 40 %. The CLI and edit plans share them.
    public static let defaultCross = 0.8, defaultSelf = 0.4

    /// The default fractions for an edit that starts from an inversion of the user's clip: its
    /// source branch is the recording, so its self-attention is kept for the whole run and its
    /// cross-attention for all but the last steps, which keeps the recording's timing while the
    /// edited words still act (docs/editing.md, "Inversion", measured on clips the embedded
    /// model did not generate: with 0.8 and 0.4 a swap keeps the timing at 0.49–0.74).
    public static let inversionCross = 0.95, inversionSelf = 1.0

    /// The default `(cross, self)` fractions for an edit from an inversion or from noise or SDEdit's start.
    public static func defaults(fromInversion: Bool) -> (cross: Double, selfReplace: Double) {
        fromInversion ? (inversionCross, inversionSelf) : (defaultCross, defaultSelf)
    }

    public init(cross: ClosedRange<Double> = 0...defaultCross, crossWords: [String: ClosedRange<Double>] = [:],
                self selfRange: ClosedRange<Double> = 0...defaultSelf) {
        crossDefault = cross
        self.crossWords = crossWords
        self.selfRange = selfRange
    }

    /// `start...end` as replacement bounds, for callers that read the two numbers separately.
    /// - Throws: ``PromptEditError/invalid(_:)`` unless 0 ≤ start ≤ end ≤ 1 (NaN included).
    public static func bounds(_ start: Double, _ end: Double) throws -> ClosedRange<Double> {
        guard 0 <= start, start <= end, end <= 1 else {
            throw PromptEditError.invalid("fractions must lie in [0, 1] with the start before the end, got \(start)-\(end)")
        }
        return start...end
    }

    /// The schedule a front end asks for: cross-attention replaced for the first `crossEnd` of
    /// the run, each of `words` over its own bounds, self-attention for the first `selfEnd`.
    /// - Throws: ``ReplaceScheduleError`` naming the value at fault: bounds outside [0, 1] or
    ///   ending before they start, or a word given twice (the words are checked first, in order).
    public init(crossEnd: Double, words: [WordReplaceBounds], selfEnd: Double) throws(ReplaceScheduleError) {
        func bounds(_ start: Double, _ end: Double, _ field: ReplaceScheduleError.Field) throws(ReplaceScheduleError) -> ClosedRange<Double> {
            do {
                return try Self.bounds(start, end)
            } catch {
                throw .invalidBounds(field, reason: "\(error)")
            }
        }
        var crossWords: [String: ClosedRange<Double>] = [:]
        for bound in words {
            guard crossWords[bound.word] == nil else { throw .wordNamedTwice(bound.word) }
            crossWords[bound.word] = try bounds(bound.start, bound.end, .word(bound.word))
        }
        self.init(cross: try bounds(0, crossEnd, .cross), crossWords: crossWords, self: try bounds(0, selfEnd, .selfAttention))
    }

    /// Checks that every fraction is in [0, 1].
    /// - Throws: ``ReplaceScheduleError/invalidBounds(_:reason:)`` naming the bounds.
    public func validate() throws {
        let named: [(ReplaceScheduleError.Field, ClosedRange<Double>)] = [(.cross, crossDefault), (.selfAttention, selfRange)]
            + crossWords.sorted(by: { $0.key < $1.key }).map { (.word($0.key), $0.value) }
        for (field, range) in named where !(range.lowerBound >= 0 && range.upperBound <= 1) {
            throw ReplaceScheduleError.invalidBounds(field, reason: "replacement fractions must lie in [0, 1], got \(range)")
        }
    }

    /// `α[evaluation][prompt][key]`, `[N + 1][E][77]`.
    /// - Throws: ``PromptEditError/unknownWord(_:prompt:tokens:)`` for a word in none of the edited prompts.
    func crossAlphas(steps: Int, edited: [PromptTokens]) throws -> [[[Float]]] {
        let rows = steps + 1, keys = PromptTokens.keyCount
        func active(_ range: ClosedRange<Double>) -> Range<Int> {
            let start = Int(range.lowerBound * Double(rows)), end = Int(range.upperBound * Double(rows))
            return start..<max(start, end)
        }
        var alpha = [[[Float]]](repeating: [[Float]](repeating: [Float](repeating: 0, count: keys), count: edited.count),
                                count: rows)
        for row in active(crossDefault) { for prompt in edited.indices { alpha[row][prompt] = [Float](repeating: 1, count: keys) } }
        for (word, range) in crossWords.sorted(by: { $0.key < $1.key }) {
            let positions = edited.map { $0.positions(of: word) }
            guard positions.contains(where: { !$0.isEmpty }) else {
                throw PromptEditError.unknownWord(word, prompt: edited.last?.prompt ?? "", tokens: edited.last?.tokenTexts ?? [])
            }
            let on = active(range)
            for row in 0..<rows {
                for (prompt, keys) in positions.enumerated() {
                    for key in keys { alpha[row][prompt][key] = on.contains(row) ? 1 : 0 }
                }
            }
        }
        return alpha
    }

    /// The evaluations at which self-attention is replaced.
    func selfEvaluations(steps: Int) -> Range<Int> {
        let start = Int(Double(steps) * selfRange.lowerBound), end = Int(Double(steps) * selfRange.upperBound)
        return start..<max(start, end)
    }
}

/// Why the fractions a front end gave do not make a ``ReplaceSchedule``, with the value they
/// came in, for the front end to name in its own spelling (a flag, a JSON key).
public enum ReplaceScheduleError: Error, Equatable, CustomStringConvertible {
    /// Which value of the schedule.
    public enum Field: Sendable, Equatable {
        case cross, selfAttention
        /// A word's own cross-replacement bounds.
        case word(String)
    }

    /// Bounds outside [0, 1] or ending before they start.
    case invalidBounds(Field, reason: String)
    /// A word given its own bounds twice.
    case wordNamedTwice(String)

    public var description: String {
        switch self {
        case .invalidBounds(.cross, let reason): "cross-attention replacement: \(reason)"
        case .invalidBounds(.selfAttention, let reason): "self-attention replacement: \(reason)"
        case .invalidBounds(.word(let word), let reason): "cross-attention replacement of \"\(word)\": \(reason)"
        case .wordNamedTwice(let word): "\"\(word)\" is given its own cross-replacement bounds twice"
        }
    }
}
