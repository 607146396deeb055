import ArgumentParser
import Editing

/// When `swap` and `reweight` replace the edited prompt's attention with the source's:
/// prompt-to-prompt's `cross_replace_steps` (with per-word bounds) and `self_replace_steps`.
struct ReplaceOptions: ParsableArguments {
    @Option(name: .customLong("cross-replace"), help: "Fraction of the run during which cross-attention is replaced.")
    var crossReplace = 0.8

    @Option(name: .customLong("cross-replace-word"), parsing: .upToNextOption,
            help: ArgumentHelp("A word's own cross-replacement, overriding --cross-replace for its tokens: WORD=END or WORD=START-END, fractions of the run (e.g. cat=0.4).",
                               valueName: "WORD=BOUNDS"))
    var crossReplaceWords: [WordReplaceBounds] = []

    @Option(name: .customLong("self-replace"), help: "Fraction of the run during which self-attention (≤16² positions) is replaced.")
    var selfReplace = 0.4

    func validate() throws {
        for (name, value) in [("--cross-replace", crossReplace), ("--self-replace", selfReplace)] where !(0...1).contains(value) {
            throw ValidationError("\(name) must be in [0, 1], got \(value)")
        }
        var seen: Set<String> = []
        for bounds in crossReplaceWords where !seen.insert(bounds.word).inserted {
            throw ValidationError("--cross-replace-word names \"\(bounds.word)\" twice")
        }
    }

    var schedule: ReplaceSchedule {
        ReplaceSchedule(cross: 0...crossReplace,
                        crossWords: Dictionary(uniqueKeysWithValues: crossReplaceWords.map { ($0.word, $0.bounds) }),
                        self: 0...selfReplace)
    }
}

/// `WORD=END` (from the start of the run) or `WORD=START-END`, fractions in [0, 1], e.g. `cat=0.4`.
struct WordReplaceBounds: ExpressibleByArgument {
    let word: String
    let bounds: ClosedRange<Double>

    init?(argument: String) {
        guard let equals = argument.lastIndex(of: "="), equals != argument.startIndex else { return nil }
        let fields = argument[argument.index(after: equals)...].split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(fields.count), let end = Double(fields[fields.count - 1]),
              let start = fields.count == 2 ? Double(fields[0]) : 0, 0 <= start, start <= end, end <= 1 else { return nil }
        word = String(argument[..<equals])
        bounds = start...end
    }
}
