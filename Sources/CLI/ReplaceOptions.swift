import ArgumentParser
import Editing

/// When `swap` and `reweight` replace the edited prompt's attention with the source's:
/// prompt-to-prompt's `cross_replace_steps` (with per-word bounds) and `self_replace_steps`.
struct ReplaceOptions: ParsableArguments {
    @Option(name: .customLong("cross-replace"), help: "Fraction of the run during which cross-attention is replaced (default \(ReplaceSchedule.defaultCross); \(ReplaceSchedule.inversionCross) from an inversion).")
    var crossReplace: Double?

    @Option(name: .customLong("cross-replace-word"), parsing: .upToNextOption,
            help: ArgumentHelp("Own cross-replacement bounds for a word of the edited prompt, overriding --cross-replace for its tokens: WORD=END or WORD=START-END, fractions of the run (e.g. cat=0.4).",
                               valueName: "WORD=BOUNDS"))
    var crossReplaceWords: [WordReplaceBounds] = []

    @Option(name: .customLong("self-replace"), help: "Fraction of the run during which self-attention (≤16² positions) is replaced (default \(ReplaceSchedule.defaultSelf); \(ReplaceSchedule.inversionSelf) from an inversion).")
    var selfReplace: Double?

    func validate() throws {
        do {
            _ = try schedule()
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// The replacement schedule these options describe, with the defaults of an edit that starts
    /// from an inversion or not.
    /// - Throws: ``PromptEditError/invalid(_:)`` naming the option: a fraction outside [0, 1],
    ///   bounds that end before they start, or a word given twice.
    func schedule(fromInversion: Bool = false) throws -> ReplaceSchedule {
        let defaults = ReplaceSchedule.defaults(fromInversion: fromInversion)
        func bounds(_ start: Double, _ end: Double, option: String) throws -> ClosedRange<Double> {
            do {
                return try ReplaceSchedule.bounds(start, end)
            } catch {
                throw PromptEditError.invalid("\(option): \(error)")
            }
        }
        var words: [String: ClosedRange<Double>] = [:]
        for bound in crossReplaceWords {
            guard words[bound.word] == nil else { throw PromptEditError.invalid("--cross-replace-word names \"\(bound.word)\" twice") }
            words[bound.word] = try bounds(bound.start, bound.end, option: "--cross-replace-word \(bound.word)")
        }
        return ReplaceSchedule(cross: try bounds(0, crossReplace ?? defaults.cross, option: "--cross-replace"), crossWords: words,
                               self: try bounds(0, selfReplace ?? defaults.selfReplace, option: "--self-replace"))
    }
}

/// `WORD=END` (from the start of the run) or `WORD=START-END`, e.g. `cat=0.4` or `cat=0.2-0.6`;
/// ``ReplaceOptions`` checks the numbers.
struct WordReplaceBounds: ExpressibleByArgument {
    let word: String
    let start: Double
    let end: Double

    init?(argument: String) {
        guard let equals = argument.lastIndex(of: "="), equals != argument.startIndex else { return nil }
        let value = argument[argument.index(after: equals)...]
        word = String(argument[..<equals])
        if let end = Double(value) {
            (start, self.end) = (0, end)
            return
        }
        // START-END: the first "-" with a number on each side (an exponent may hold a "-" too).
        let pairs = value.indices.lazy.filter { value[$0] == "-" }.compactMap { dash in
            Double(value[..<dash]).flatMap { start in Double(value[value.index(after: dash)...]).map { (start, $0) } }
        }
        guard let (start, end) = pairs.first else { return nil }
        (self.start, self.end) = (start, end)
    }
}
