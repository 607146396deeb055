import ArgumentParser
import Editing

/// A `LO-HI` pair of numbers, as `--mask 2.5-4.0` (seconds) or `--band 500-4000` (Hz).
struct NumberRange: ExpressibleByArgument {
    let range: Range<Double>

    init?(argument: String) {
        let parts = argument.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = Double(parts[0]), let high = Double(parts[1]), low < high else { return nil }
        range = low..<high
    }
}

/// `auffusion inpaint`: regenerate time ranges of a clip under a prompt.
struct InpaintCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inpaint",
        abstract: "Regenerate time ranges of an audio clip from a text prompt (inpainting).",
        discussion: """
            The rest of the clip is kept sample for sample, with equal-power crossfades at each edge \
            (--raw returns the decoded result instead). Ranges round outward to the 80 ms latent grid.
            """
    )

    @Argument(help: "The clip to edit (any format libsndfile reads).")
    var input: String

    @Argument(help: "What the masked ranges should sound like.")
    var prompt: String

    @Option(help: ArgumentHelp("A time range to regenerate, START-END in seconds; repeatable.", valueName: "START-END"))
    var mask: [NumberRange] = []

    @Option(help: ArgumentHelp("Limit the mask to a frequency band, LO-HI in Hz (0-8000).", valueName: "LO-HI"))
    var band: NumberRange?

    @Option(help: "Crossfade length at each edge, in milliseconds.")
    var crossfade = 20.0

    @Flag(help: "Return the decoded result as the reference does, without keeping the original outside the mask.")
    var raw = false

    @OptionGroup var options: ClipEditOptions

    func validate() throws {
        guard !mask.isEmpty else { throw ValidationError("give at least one --mask START-END (seconds)") }
        guard crossfade >= 0 else { throw ValidationError("--crossfade must be non-negative") }
        guard !prompt.isEmpty else { throw ValidationError("give a prompt") }
    }

    func run() throws {
        try reportingErrors {
            let (pipeline, clip, source) = try options.prepare(input: input)
            var noise = source
            var edit = Inpainting(mask: try EditMask(ranges: mask.map(\.range), band: band?.range, clipDuration: clip.duration,
                                                     maximumFrequency: pipeline.melParameters.maximumFrequency))
            edit.crossfadeSeconds = crossfade / 1000
            edit.raw = raw
            let reporter = options.reporter()
            let result = try edit.run(on: clip, request: options.request(prompt: prompt), pipeline: pipeline, noise: &noise) { progress in
                reporter.step(progress.step, of: progress.total)
                return true
            }
            reporter.finish()
            let ranges = edit.mask.ranges.map { [$0.lowerBound, $0.upperBound] }
            try options.write(result.audio, result: result, input: input, fields: ["mask": ranges, "raw": raw])
        }
    }
}
