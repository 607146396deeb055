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

    @OptionGroup var replace: ReplaceOptions

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
        if let blendResolution, AttentionResolution(blendResolution) == nil {
            throw ValidationError("--blend-resolution must be HxW with positive integers, e.g. 8x32, got \(blendResolution)")
        }
    }

    func run() throws {
        try reportingErrors {
            let edit = PromptEdit(alignment: refine ? .refine : .swap, weights: weight.map { ($0.word, $0.factor) },
                                  schedule: try replace.schedule())
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

    @OptionGroup var replace: ReplaceOptions

    @OptionGroup var options: PromptEditOptions

    func validate() throws {
        guard !weight.isEmpty else { throw ValidationError("give at least one --weight WORD=FACTOR") }
    }

    func run() throws {
        try reportingErrors {
            let edit = PromptEdit(alignment: .none, weights: weight.map { ($0.word, $0.factor) },
                                  schedule: try replace.schedule())
            try options.run(prompts: [prompt, prompt], edit: edit)
        }
    }
}
