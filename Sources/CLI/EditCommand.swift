import ArgumentParser
import Editing
import Foundation
import Pipeline
import Toolkit

/// `auffusion edit PLAN.json`: run a composed plan of passes (docs/editing.md, "Composition").
struct EditCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "edit",
        abstract: "Run a composed plan of edit passes (JSON) on the latents, vocoding once at the end.",
        discussion: """
            Each pass starts from noise, the plan's input clip or the previous pass, may keep the latents \
            outside a mask, and may edit attention (swap, refine, reweight, local blend). Paths in the plan \
            are relative to its folder. The whole plan is checked before the first pass runs. When every \
            pass is masked, the result keeps the clip outside the masks sample for sample, with crossfades \
            (--raw: the decoded canvas); otherwise it is the decoded canvas trimmed to the clip.
            """
    )

    @Argument(help: "The plan (JSON).")
    var plan: String

    @OptionGroup var model: ModelOptions
    @OptionGroup var clipOptions: ClipInputOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup var peaks: PeakOptions

    @Option(name: .shortAndLong, help: "Output audio file; overrides the plan's \"output\".")
    var output: String?

    @Option(help: "Seed of every noise the plan draws (torch.randn-compatible; default 0).")
    var seed: UInt64?

    @Option(help: "Also write the spectrogram picture of the result (PNG).")
    var spectrogram: String?

    @OptionGroup var splice: SpliceOptions

    func run() throws {
        let planURL = URL(fileURLWithPath: plan)
        let document: EditPlanDocument
        do {
            document = try EditPlanDocument(json: try Data(contentsOf: planURL))
        } catch let error as EditPlanError {
            throw CLIError("\(plan): \(error)")
        }
        let folder = planURL.deletingLastPathComponent()
        func resolve(_ path: String) -> URL { URL(fileURLWithPath: path, relativeTo: folder).standardizedFileURL }
        guard let outputPath = output ?? document.output.map({ resolve($0).path }) else {
            throw CLIError("give -o OUT or an \"output\" in the plan")
        }
        let inputURL = document.input.map(resolve)
        let outputs = try RunOutputs(audio: outputPath, spectrogram: spectrogram, inputs: [planURL] + [inputURL].compactMap { $0 },
                                     peaks: peaks)
        let pipeline = try model.load(report)
        var sampling = try SamplingOptions.parse([])
        sampling.seed = seed
        var noise = NoiseSource(seed: sampling.seedValue)
        let clip = try inputURL.map { try clipOptions.read($0.path, pipeline: pipeline) }
        let editPlan = splice.applied(to: try document.plan(clipDuration: clip?.duration, pipeline: pipeline))
        try runPlan(editPlan, command: "edit", clip: clip, input: inputURL, pipeline: pipeline, noise: &noise, outputs: outputs,
                    sampling: sampling, clipOptions: clipOptions, report: report, details: ["passes": .number(Double(editPlan.passes.count))]).record.emit(report)
    }
}
