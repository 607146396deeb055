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
            it, 1 nearly ignores it. A clip longer than the model's canvas (10.24 s for Auffusion's) is restyled whole, in overlapping windows of the canvas (docs/editing.md, "Long clips").
            """
    )

    @Argument(help: "The clip to restyle (any format libsndfile reads).")
    var input: String

    @Argument(help: "What the result should sound like.")
    var prompt: String

    @Option(help: "How much of the schedule to run, 0…1.")
    var strength = 0.5

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var clipOptions: ClipInputOptions
    @OptionGroup var outputOptions: EditOutputOptions
    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard (0...1).contains(strength) else { throw ValidationError("--strength must be between 0 and 1, got \(strength)") }
        guard !prompt.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("give a prompt") }
    }

    func run() throws {
        let inputURL = URL(fileURLWithPath: input)
        let outputs = try outputOptions.outputs(inputs: [inputURL] + sampling.inputs)
        var noise = try sampling.noiseSource()
        let pipeline = try model.load(report)
        let clip = try clipOptions.read(input, pipeline: pipeline)
        let plan = EditPlan([.styleTransfer(strength: strength, request: sampling.request(prompt: prompt))])
        try runPlan(plan, command: "transfer", clip: clip, input: inputURL, pipeline: pipeline, noise: &noise,
                        outputs: outputs, sampling: sampling, clipOptions: clipOptions, report: report,
                        details: ["strength": .number(strength)]).record.emit(report)
    }
}
