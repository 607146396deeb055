import ArgumentParser
import Editing
import Foundation
import Toolkit

/// `auffusion inpaint`: regenerate time ranges of a clip under a prompt.
struct InpaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inpaint",
        abstract: "Regenerate time ranges of an audio clip from a text prompt (inpainting).",
        discussion: """
            The rest of the clip is kept sample for sample, with equal-power crossfades at each edge \
            (--raw returns the decoded result instead). Ranges round outward to the latent grid (80 ms for Auffusion).
            """
    )

    @Argument(help: "The clip to edit (any format libsndfile reads).")
    var input: String

    @Argument(help: "What the masked ranges should sound like.")
    var prompt: String

    @Option(help: ArgumentHelp("A time range to regenerate, START-END or START+LENGTH, in seconds or m:ss.s; repeatable.",
                               valueName: "range"),
            transform: { try NumberRange.argument($0, option: "--mask", ends: .times) })
    var mask: [NumberRange] = []

    @Option(help: ArgumentHelp("Limit the mask to a frequency band, LO-HI in Hz (0-8000).", valueName: "LO-HI"),
            transform: { try NumberRange.argument($0, option: "--band") })
    var band: NumberRange?

    @Option(help: "How much of the schedule to run, 0…1 (1, the default, starts the masked ranges from pure noise).")
    var strength = 1.0

    @OptionGroup var splice: SpliceOptions
    @OptionGroup var edit: EditCommandOptions

    func validate() throws {
        guard !mask.isEmpty else { throw ValidationError("give at least one --mask START-END (seconds)") }
        guard (0...1).contains(strength) else { throw ValidationError("--strength must be between 0 and 1, got \(strength)") }
        guard !prompt.trimmingCharacters(in: .whitespaces).isEmpty else { throw ValidationError("give a prompt") }
    }

    func run() throws {
        try edit.run("inpaint", input: input) { pipeline in
            let clip = try edit.clip.read(input, pipeline: pipeline)
            let editMask = try EditMask(ranges: mask.map(\.range), band: band?.range, clipDuration: clip.duration,
                                        maximumFrequency: pipeline.melParameters.maximumFrequency)
            let pass = EditPass.inpainting(mask: editMask, strength: strength, request: edit.sampling.request(prompt: prompt))
            let ranges = editMask.ranges.map { JSONValue.array([.number($0.lowerBound), .number($0.upperBound)]) }
            return PlannedEdit(plan: splice.choices.applied(to: EditPlan([pass])), clip: clip,
                               details: ["mask": .array(ranges), "raw": .bool(splice.raw), "strength": .number(strength)])
        }
    }
}
