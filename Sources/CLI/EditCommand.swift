import ArgumentParser
import Editing
import FileOutput
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
            are relative to its folder, and its "output" must stay inside it (-o writes anywhere). The whole \
            plan is checked before the first pass runs. When every pass is masked, the result keeps the clip \
            outside the masks sample for sample, with crossfades (--raw: the decoded canvas); otherwise it is \
            the decoded canvas trimmed to the clip. With --batch FILE.jsonl, each line is a plan (plus an \
            optional "seed"), its "input" relative to the batch file and its "output" to --output-dir \
            (docs/batch.md); -n and --seeds make several takes of a plan.
            """
    )

    @Argument(help: "The plan (JSON).")
    var plan: String?

    @OptionGroup var batch: BatchOptions

    @OptionGroup var model: ModelOptions
    @OptionGroup var clipOptions: ClipInputOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup var output: OutputOptions

    @Option(help: "Seed of every noise the plan draws (torch.randn-compatible; default 0; in a batch, drawn at random).")
    var seed: UInt64?

    @OptionGroup var splice: SpliceOptions

    func validate() throws {
        guard (plan == nil) != (batch.batch == nil) else { throw ValidationError("give a plan, or --batch FILE.jsonl") }
        if batch.isBatch && output.namesFiles {
            throw ValidationError("-o, --spectrogram and --save-mel name one file; with --batch, -n or --seeds give --output-dir DIR")
        }
    }

    func run() throws {
        if batch.isBatch { return try runBatch() }
        let file = try EditPlanFile(contentsOf: URL(fileURLWithPath: plan ?? ""))
        guard let audio = try output.output ?? Self.output(of: file)?.path else { throw CLIError("give -o OUT or an \"output\" in the plan") }
        let outputs = try output.outputs(audio: audio, inputs: file.inputs)
        let pipeline = try model.load(report)
        var noise = NoiseSource(seed: seed ?? 0)
        let clip = try file.input.map { try clipOptions.read($0.path, pipeline: pipeline) }
        let editPlan = splice.choices.applied(to: try file.plan(clip: clip, pipeline: pipeline))
        try clipOptions.run(editPlan, command: "edit", clip: clip, input: file.input, pipeline: pipeline, noise: &noise, outputs: outputs,
                            seed: seed ?? 0, noiseFromFile: false, report: report,
                            details: ["passes": .number(Double(editPlan.passes.count))]).emit(report)
    }

    /// Every plan of the batch file, or the takes of the one plan, in this shard, with the models
    /// loaded once.
    private func runBatch() throws {
        let file = URL(fileURLWithPath: batch.batch ?? plan ?? "")
        let plan = try batch.plan(baseSeed: seed) {
            var document = try EditPlanFile(contentsOf: file).document
            document.output = document.output ?? file.deletingPathExtension().lastPathComponent + ".wav"
            return EditBatchLine(plan: document)
        }
        var job = EditBatchJob(inputFolder: file.deletingLastPathComponent())
        job.finishing = splice.choices
        job.samplePosterior = clipOptions.samplePosterior
        job.format = clipOptions.format.overrides
        try batch.run(job, plan: plan, pipeline: try model.load(report, residency: .allLoaded), inputs: [file], single: file.path,
                      peaks: output.peaks, report: report)
    }

    /// The plan's `output`, which must stay inside its folder.
    private static func output(of file: EditPlanFile) throws -> URL? {
        do {
            return try file.output()
        } catch let error as OutputFolder.Error {
            throw CLIError("\(file.url.path): \(error), or give -o")
        }
    }
}
