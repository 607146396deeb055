import ArgumentParser
import AudioDSP
import Compute
import Editing
import FileOutput
import Foundation
import Pictures
import Pipeline

/// `auffusion edit PLAN.json`: run a composed plan of passes (docs/editing.md, "Composition").
struct EditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Run a composed plan of edit passes (JSON) on the latents, vocoding once at the end.",
        discussion: """
            Each pass starts from noise, the plan's input clip or the previous pass, may keep the latents \
            outside a mask, and may edit attention (swap, refine, reweight). Paths in the plan are \
            relative to its folder. When every pass is masked, the result keeps the clip outside the \
            masks sample for sample, with crossfades (--raw: the decoded canvas); otherwise it is the \
            decoded canvas trimmed to the clip.
            """
    )

    @Argument(help: "The plan (JSON).")
    var plan: String

    @OptionGroup var model: ModelOptions

    @Option(name: .shortAndLong, help: "Output audio file; overrides the plan's \"output\".")
    var output: String?

    @Option(help: "Seed of every noise the plan draws (torch.randn-compatible).")
    var seed: UInt64 = 0

    @Option(help: "Also write the spectrogram picture of the result (PNG).")
    var spectrogram: String?

    @Option(help: "Crossfade length at each mask edge, in milliseconds, when the result is spliced into the clip.")
    var crossfade = 20.0

    @Flag(help: "Return the decoded result even when every pass is masked.")
    var raw = false

    func validate() throws {
        guard crossfade >= 0, crossfade.isFinite else { throw ValidationError("--crossfade must be non-negative") }
    }

    @Flag(help: "Print a JSON summary on stdout.")
    var json = false

    @Flag(help: "Print no progress.")
    var quiet = false

    func run() throws {
        try reportingErrors {
            let planURL = URL(fileURLWithPath: plan)
            let file = try EditPlanFile.read(planURL)
            let folder = planURL.deletingLastPathComponent()
            func resolve(_ path: String) -> URL { URL(fileURLWithPath: path, relativeTo: folder).standardizedFileURL }
            guard let outputURL = output.map(URL.init(fileURLWithPath:)) ?? file.output.map(resolve) else {
                throw CLIError("give -o OUT or an \"output\" in the plan")
            }
            guard AudioContainer(path: outputURL) != nil else { throw AudioFileError.unsupportedExtension(path: outputURL.path) }
            let inputURL = file.input.map(resolve)
            let inputs = [planURL] + [inputURL].compactMap { $0 }
            for url in [outputURL] + [spectrogram].compactMap({ $0.map(URL.init(fileURLWithPath:)) }) {
                try AtomicFile.ensure(url, isNotOneOf: inputs)
            }
            let pipeline = try model.load(quiet: quiet || json)
            var mean: NoiseSource? = nil
            let clip = try inputURL.map { try encodeClip(try AudioFile.read($0), named: $0.path, pipeline: pipeline, posteriorNoise: &mean) }
            var editPlan = try file.plan(clip: clip, maximumFrequency: pipeline.melParameters.maximumFrequency)
            editPlan.crossfadeSeconds = crossfade / 1000
            editPlan.raw = raw
            var noise = NoiseSource(seed: seed)
            let reporter = ProgressReporter(label: "step", quiet: quiet || json)
            let result = try editPlan.run(clip: clip, pipeline: pipeline, noise: &noise) { pass, progress in
                reporter.step(progress.step, of: progress.total)
                if progress.step == progress.total && pass < editPlan.passes.count { reporter.finish() }
                return true
            }
            reporter.finish()
            try AudioFile.write(result.audio, to: outputURL, protecting: inputs)
            if let spectrogram {
                try SpectrogramPicture.render(result.image, timeAxis: true).writePNG(to: URL(fileURLWithPath: spectrogram))
            }
            guard json else { return }
            let summary: [String: Any] = ["output": outputURL.path, "passes": editPlan.passes.count,
                                          "seconds": result.audio.duration, "seed": seed]
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
