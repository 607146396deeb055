import ArgumentParser
import Editing
import Foundation
import Toolkit

/// `auffusion transfer`: restyle a clip with a new prompt (SDEdit).
struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Restyle an audio clip with a text prompt (SDEdit style transfer).",
        discussion: """
            The clip is noised part of the way (--strength) and denoised under the prompt; 0 keeps \
            it, 1 nearly ignores it. --start ddpm inverts the clip instead (ZETA's text-based edit: \
            --source-prompt says what it sounds like) and keeps more of its structure. A clip longer \
            than the model's canvas (10.24 s for Auffusion's) is restyled whole, in overlapping windows \
            of the canvas (docs/editing.md, "Long clips").
            """
    )

    @Argument(help: "The clip to restyle (any format libsndfile reads).")
    var input: String

    @Argument(help: "What the result should sound like.")
    var prompt: String

    @Option(help: "How much of the schedule to run, 0…1 (default 0.5; from a ddim inversion, all of it).")
    var strength: Double?

    @Option(name: .customLong("source-prompt"), help: "With an inversion start: what the clip sounds like (default: empty, as ZETA's).")
    var sourcePrompt: String?

    @OptionGroup var clipStart: ClipStartOptions
    @OptionGroup var edit: EditCommandOptions

    func validate() throws {
        if let strength, !(0...1).contains(strength) { throw ValidationError("--strength must be between 0 and 1, got \(strength)") }
        guard !prompt.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("give a prompt") }
        try clipStart.refuseUnused(fallback: .sdedit, scheduler: edit.sampling.scheduler, sourcePrompt: sourcePrompt)
    }

    func run() throws {
        try edit.run("transfer", input: input, inputs: clipStart.inputs) { pipeline in
            let clip = try edit.clip.read(input, pipeline: pipeline)
            var request = edit.sampling.request(prompt: prompt)
            let (start, startRecord) = try clipStart.choice(strength: strength, sourcePrompt: sourcePrompt ?? "", sampling: edit.sampling)
                .start(fallback: .sdedit, request: &request)
            return PlannedEdit(plan: EditPlan([EditPass(start: start, request: request)]), clip: clip, details: ["start": startRecord])
        }
    }
}
