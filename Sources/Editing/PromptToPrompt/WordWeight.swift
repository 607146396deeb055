/// A word of a prompt and the factor its cross-attention is scaled by, written `WORD=FACTOR`
/// (`rain=2`, `dog=-0.5`): how the command line and the server name a reweighting (``PromptEdit/weights``).
public struct WordWeight: Sendable, Equatable {
    public var word: String
    /// Any finite factor: above 1 emphasises, below 1 suppresses, 0 and negative values allowed.
    public var factor: Float

    public init(word: String, factor: Float) {
        self.word = word
        self.factor = factor
    }

    /// Parses `WORD=FACTOR`, split at the last `=`; nil without a word or a finite factor.
    public init?(parsing text: String) {
        guard let equals = text.lastIndex(of: "="), let factor = Float(text[text.index(after: equals)...]),
              factor.isFinite, equals != text.startIndex else { return nil }
        self.init(word: String(text[..<equals]), factor: factor)
    }
}

/// A word's own cross-replacement bounds, fractions of the run, written `WORD=END` (from the start
/// of the run) or `WORD=START-END` (`cat=0.4`, `cat=0.2-0.6`). The numbers are checked when a
/// ``ReplaceSchedule`` is built from them (``ReplaceSchedule/init(crossEnd:words:selfEnd:)``).
public struct WordReplaceBounds: Sendable, Equatable {
    public var word: String
    public var start: Double
    public var end: Double

    public init(word: String, start: Double = 0, end: Double) {
        self.word = word
        self.start = start
        self.end = end
    }

    /// Parses `WORD=END` or `WORD=START-END`, split at the last `=`; nil without a word or numbers.
    public init?(parsing text: String) {
        guard let equals = text.lastIndex(of: "="), equals != text.startIndex else { return nil }
        let value = text[text.index(after: equals)...]
        let word = String(text[..<equals])
        if let end = Double(value) {
            self.init(word: word, end: end)
            return
        }
        // START-END: the first "-" with a number on each side (an exponent may hold a "-" too).
        let pairs = value.indices.lazy.filter { value[$0] == "-" }.compactMap { dash in
            Double(value[..<dash]).flatMap { start in Double(value[value.index(after: dash)...]).map { (start, $0) } }
        }
        guard let (start, end) = pairs.first else { return nil }
        self.init(word: word, start: start, end: end)
    }
}
