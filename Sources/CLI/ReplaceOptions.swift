import ArgumentParser
import Editing
import Toolkit

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
        try usage {
            _ = try ReplaceSchedule(crossEnd: crossReplace ?? ReplaceSchedule.defaultCross, words: crossReplaceWords,
                                    selfEnd: selfReplace ?? ReplaceSchedule.defaultSelf)
        }
    }

    /// These fractions in `edit`; those not given take the defaults of the edit's start.
    func apply(to edit: inout PromptEditRequest) {
        (edit.crossReplace, edit.crossReplaceWords, edit.selfReplace) = (crossReplace, crossReplaceWords, selfReplace)
    }
}

extension WordReplaceBounds: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
