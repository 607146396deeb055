import ArgumentParser
import Editing
import Foundation
import Pipeline
import Toolkit

/// `auffusion swap`: word swap between a source and a target prompt.
struct SwapCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swap",
        abstract: "Change words of a prompt while keeping the sound's structure (prompt-to-prompt word swap).",
        discussion: """
        Both prompts have as many words; the swapped words may differ in token count (the source \
        word's attention is spread over the target's tokens). The target's cross-attention is taken \
        from the source through a word-swap mapper. For added words, use `auffusion refine`.
        """
    )

    @OptionGroup var prompts: PromptPair

    func run() throws { try prompts.run(alignment: .swap, command: "swap") }
}

/// `auffusion refine`: add words to a prompt (prompt-to-prompt refinement).
struct RefineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refine",
        abstract: "Add or change words of a prompt, aligning its tokens with the source's (prompt-to-prompt refinement).",
        discussion: "Tokens common to both prompts take the source's attention; added tokens keep their own."
    )

    @OptionGroup var prompts: PromptPair

    func run() throws { try prompts.run(alignment: .refine, command: "refine") }
}

/// The arguments of `swap` and `refine`: a source and an edited prompt, optional weights.
struct PromptPair: ParsableArguments {
    @Argument(help: "The source prompt, e.g. \"a dog barking in the rain\".")
    var source: String

    @Argument(help: "The edited prompt, e.g. \"a cat barking in the rain\".")
    var target: String

    @Option(parsing: .upToNextOption, help: "Also reweight words of the edited prompt: WORD=FACTOR.")
    var weight: [WordWeight] = []

    @OptionGroup var options: PromptEditOptions

    func validate() throws {
        guard ![source, target].contains(where: { $0.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty }) else {
            throw ValidationError("give both prompts, the source and the edited one")
        }
    }

    func run(alignment: PromptEdit.Alignment, command: String) throws {
        try options.run(source: source, target: target, alignment: alignment, weights: weight, command: command)
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

    @OptionGroup var options: PromptEditOptions

    func validate() throws {
        guard !weight.isEmpty else { throw ValidationError("give at least one --weight WORD=FACTOR") }
        guard !prompt.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw ValidationError("give a prompt") }
    }

    func run() throws {
        try options.run(source: prompt, target: prompt, alignment: .none, weights: weight, command: "reweight")
    }
}

/// The options `swap`, `refine` and `reweight` share, and the plan of one pass they run.
struct PromptEditOptions: ParsableArguments {
    @OptionGroup var edit: EditCommandOptions
    @OptionGroup var replace: ReplaceOptions

    @Option(name: .customLong("source-output"), help: "Also write the source prompt's audio.")
    var sourceOutput: String?

    @Flag(name: .customLong("shared-noise"), inversion: .prefixedNo,
          help: "One initial latent for both prompts, so that they differ only through the edit (original prompt-to-prompt; the default), or one per prompt (Auffusion's pipeline).")
    var sharedNoise: Bool?

    @Flag(name: .customLong("source-negative"), inversion: .prefixedNo,
          help: "From an inversion, without --negative: guide away from the source prompt instead of the empty one (the default; docs/editing.md, \"Inversion\"), or keep the reference's guidance.")
    var sourceNegative: Bool?

    @OptionGroup var length: DurationOption

    @Option(help: ArgumentHelp("Edit an existing clip: both prompts start from its DDIM inversion under the source prompt, the source kept on it, so the edit keeps what the words do not change (--start sets how; the output has the clip's length).", valueName: "IN.wav"))
    var from: String?

    @Option(help: "With --from: how much of the schedule to run, 0…1 (default: 0.5 for --start sdedit; the whole inversion for ddim, half for ddpm).")
    var strength: Double?

    @OptionGroup var clipStart: ClipStartOptions

    @Option(parsing: .upToNextOption, help: "Local blend: change the sound only where these words (of either prompt) attend.")
    var blend: [String] = []

    @Option(name: .customLong("blend-resolution"), help: "Map level HxW of the local blend (default: a quarter of the latents', 8x32 for Auffusion).",
            transform: { try parseResolution($0, option: "--blend-resolution") })
    var blendResolution: AttentionResolution?

    @Option(help: ArgumentHelp("Also write the edited prompt's per-word attention maps (as `auffusion attention`) into this folder.", valueName: "DIR"))
    var maps: String?

    @Option(name: .customLong("maps-resolution"), help: "Resolution of --maps, a stored level HxW (default: the level 8 latent rows high, 8x32 on Auffusion's canvas).",
            transform: { try parseResolution($0, option: "--maps-resolution") })
    var mapsResolution: AttentionResolution?

    func validate() throws {
        try edit.sampling.refuseFeatureCaching(with: "a prompt-to-prompt edit")
        if let strength {
            guard from != nil else { throw ValidationError("--strength needs --from IN.wav") }
            guard (0...1).contains(strength) else { throw ValidationError("--strength must be between 0 and 1, got \(strength)") }
        }
        if from != nil, let sharedNoise {
            throw ValidationError("--from always starts both prompts from the same noised clip; drop --\(sharedNoise ? "" : "no-")shared-noise")
        }
        if from != nil, length.duration != nil { throw ValidationError("--duration does not apply with --from: the output has the clip's length") }
        if from == nil, clipStart.start != nil || clipStart.inversion != nil || clipStart.sourceGuidance != nil {
            throw ValidationError("--start, --inversion and --source-guidance need --from IN.wav")
        }
        if from == nil, edit.clip.samplePosterior || edit.clip.format.overrides != OutputFormat() {
            throw ValidationError("--sample-posterior, --sample-rate, --channels and --sample-format apply to an edit of a clip (--from IN.wav)")
        }
        if from != nil { try clipStart.refuseUnused(fallback: .ddim, scheduler: edit.sampling.scheduler) }
        if let sourceNegative, from == nil || clipStart.start == .sdedit {
            throw ValidationError("--\(sourceNegative ? "" : "no-")source-negative applies to an edit from an inversion (--from IN.wav, not --start sdedit)")
        }
    }

    /// Runs the edit from `source` to `target` and writes the outputs.
    func run(source: String, target: String, alignment: PromptEdit.Alignment, weights: [WordWeight], command: String) throws {
        try edit.run(command, input: from, inputs: clipStart.inputs, sourceAudio: sourceOutput, maps: maps) { pipeline in
            let clip = try from.map { try edit.clip.read($0, pipeline: pipeline) }
            var request = edit.sampling.request(prompt: target)
            request.duration = length.duration
            var prompts = PromptEditRequest(source: source, alignment: alignment)
            (prompts.weights, prompts.blend, prompts.blendResolution, prompts.sharedNoise) = (weights, blend, blendResolution, sharedNoise)
            prompts.sourceNegative = sourceNegative
            prompts.clipStart = clipStart.choice(strength: strength, sampling: edit.sampling)
            replace.apply(to: &prompts)
            let (pass, details) = try prompts.pass(request: request, onClip: clip != nil, tokenizer: pipeline.text.tokenizer)
            let level = try maps.map { _ in
                // Named on one canvas of the model, whatever the edit's length (AttentionStore.storedResolution(atLevelOf:)).
                do {
                    return try AttentionMapFiles.level(mapsResolution, pipeline: pipeline, canvasFrames: pipeline.canvasFrames)
                } catch let failure as AttentionMapFiles.Failure {
                    throw CLIError(ErrorLine.describe(failure, option: "--maps-resolution"))
                }
            }
            return PlannedEdit(plan: EditPlan([pass]), clip: clip, details: details, mapsResolution: level)
        }
    }
}

/// `HxW` for a resolution option.
func parseResolution(_ text: String, option: String) throws -> AttentionResolution {
    guard let size = AttentionResolution(text) else {
        throw ValidationError("\(option) must be HxW with positive integers, e.g. 8x32, got \(text)")
    }
    return size
}

extension WordWeight: ExpressibleByArgument {
    public init?(argument: String) { self.init(parsing: argument) }
}
