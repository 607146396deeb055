import ArgumentParser
import Editing

/// When `swap` and `reweight` replace the edited prompt's attention with the source's:
/// prompt-to-prompt's `cross_replace_steps` (with per-word bounds) and `self_replace_steps`.
struct ReplaceOptions: ParsableArguments {
    @Option(name: .customLong("cross-replace"), help: "Fraction of the run during which cross-attention is replaced.")
    var crossReplace = ReplaceSchedule.defaultCross

    @Option(name: .customLong("cross-replace-word"), parsing: .upToNextOption,
            help: ArgumentHelp("Own cross-replacement bounds for a word of the edited prompt, overriding --cross-replace for its tokens: WORD=END or WORD=START-END, fractions of the run (e.g. cat=0.4).",
                               valueName: "WORD=BOUNDS"))
    var crossReplaceWords: [WordReplaceBounds] = []

    @Option(name: .customLong("self-replace"), help: "Fraction of the run during which self-attention (≤16² positions) is replaced.")
    var selfReplace = ReplaceSchedule.defaultSelf

    func validate() throws {
        _ = try schedule()
    }

    /// The replacement schedule these options describe.
    /// - Throws: `ValidationError` naming the option: a fraction outside [0, 1], bounds that end
    ///   before they start, or a word given twice.
    func schedule() throws -> ReplaceSchedule {
        do {
            return try ReplaceSchedule(crossEnd: crossReplace, words: crossReplaceWords, selfEnd: selfReplace)
        } catch .wordNamedTwice(let word) {
            throw ValidationError("--cross-replace-word names \"\(word)\" twice")
        } catch .invalidBounds(let field, let reason) {
            let option = switch field {
            case .cross: "--cross-replace"
            case .selfAttention: "--self-replace"
            case .word(let word): "--cross-replace-word \(word)"
            }
            throw ValidationError("\(option): \(reason)")
        }
    }
}

extension WordReplaceBounds: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
