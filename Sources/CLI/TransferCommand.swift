import ArgumentParser
import Editing

/// `auffusion transfer`: restyle a clip with a new prompt (SDEdit).
struct TransferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Restyle an audio clip with a text prompt (SDEdit style transfer).",
        discussion: """
            The clip is noised part of the way (--strength) and denoised under the prompt; 0 keeps \
            it, 1 nearly ignores it. A clip longer than the model's canvas (10.24 s for Auffusion's) is cropped to it.
            """
    )

    @Argument(help: "The clip to restyle (any format libsndfile reads).")
    var input: String

    @Argument(help: "What the result should sound like.")
    var prompt: String

    @Option(help: "How much of the schedule to run, 0…1.")
    var strength = 0.5

    @OptionGroup var options: ClipEditOptions

    func validate() throws {
        guard strength >= 0 && strength <= 1 else { throw ValidationError("--strength must be between 0 and 1") }
        guard !prompt.isEmpty else { throw ValidationError("give a prompt") }
    }

    func run() throws {
        try reportingErrors {
            let (pipeline, clip, source) = try options.prepare(input: input)
            var noise = source
            let reporter = options.reporter()
            let result = try StyleTransfer(strength: strength).run(
                on: clip, request: options.request(prompt: prompt), pipeline: pipeline, noise: &noise
            ) { progress in
                reporter.step(progress.step, of: progress.total)
                return true
            }
            reporter.finish()
            try options.write(result.audio, result: result, input: input, fields: ["strength": strength])
        }
    }
}
