import ArgumentParser
import Editing

/// `auffusion swap`: word swap (or refinement) between a source and a target prompt.
struct SwapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swap",
        abstract: "Change words of a prompt while keeping the sound's structure (prompt-to-prompt).",
        discussion: """
        With as many words and tokens in both prompts, the target's cross-attention is taken from the \
        source through a word-swap mapper; with --refine (added words), tokens are aligned instead.
        """
    )

    @Argument(help: "The source prompt, e.g. \"a dog barking in the rain\".")
    var source: String

    @Argument(help: "The edited prompt, e.g. \"a cat barking in the rain\".")
    var target: String

    @Option(name: .customLong("cross-replace"), help: "Fraction of the run during which cross-attention is replaced.")
    var crossReplace = 0.8

    @Option(name: .customLong("self-replace"), help: "Fraction of the run during which self-attention (≤16² positions) is replaced.")
    var selfReplace = 0.4

    @Flag(help: "Align the prompts token by token (words added) instead of swapping words.")
    var refine = false

    @Option(parsing: .upToNextOption, help: "Also reweight words of the edited prompt: WORD=FACTOR.")
    var weight: [WordWeight] = []

    @Option(parsing: .upToNextOption, help: "Local blend: change the sound only where these words (of either prompt) attend.")
    var blend: [String] = []

    @Option(name: .customLong("blend-resolution"), help: "Map level HxW of the local blend (default: a quarter of the latents', 8x32 for Auffusion).")
    var blendResolution: String?

    @OptionGroup var options: PromptEditOptions

    func validate() throws {
        try validateFractions(crossReplace, selfReplace)
        if let blendResolution, AttentionResolution(blendResolution) == nil {
            throw ValidationError("--blend-resolution must be HxW with positive integers, e.g. 8x32, got \(blendResolution)")
        }
    }

    func run() throws {
        try reportingErrors {
            let edit = PromptEdit(alignment: refine ? .refine : .swap, weights: weight.map { ($0.word, $0.factor) },
                                  schedule: ReplaceSchedule(cross: 0...crossReplace, self: 0...selfReplace))
            try options.run(prompts: [source, target], edit: edit, blendWords: blend,
                            blendResolution: blendResolution.flatMap(AttentionResolution.init))
        }
    }
}

/// `auffusion reweight`: scale the attention of chosen words.
struct ReweightCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reweight",
        abstract: "Emphasise or suppress words of a prompt by scaling their cross-attention (prompt-to-prompt).",
        discussion: "The prompt is denoised twice side by side; -o gets the reweighted version, --source-output the plain one."
    )

    @Argument(help: "The prompt, e.g. \"a dog barking in the rain\".")
    var prompt: String

    @Option(parsing: .upToNextOption, help: "WORD=FACTOR (negative and zero allowed), e.g. --weight rain=2 dog=0.5.")
    var weight: [WordWeight]

    @Option(name: .customLong("cross-replace"), help: "Fraction of the run during which cross-attention is replaced.")
    var crossReplace = 0.8

    @Option(name: .customLong("self-replace"), help: "Fraction of the run during which self-attention (≤16² positions) is replaced.")
    var selfReplace = 0.4

    @OptionGroup var options: PromptEditOptions

    func validate() throws {
        guard !weight.isEmpty else { throw ValidationError("give at least one --weight WORD=FACTOR") }
        try validateFractions(crossReplace, selfReplace)
    }

    func run() throws {
        try reportingErrors {
            let edit = PromptEdit(alignment: .none, weights: weight.map { ($0.word, $0.factor) },
                                  schedule: ReplaceSchedule(cross: 0...crossReplace, self: 0...selfReplace))
            try options.run(prompts: [prompt, prompt], edit: edit)
        }
    }
}

/// `--cross-replace` and `--self-replace` must be fractions.
private func validateFractions(_ cross: Double, _ self: Double) throws {
    for (name, value) in [("--cross-replace", cross), ("--self-replace", self)] where !(0...1).contains(value) {
        throw ValidationError("\(name) must be in [0, 1], got \(value)")
    }
}
