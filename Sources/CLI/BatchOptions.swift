import ArgumentParser
import FileOutput
import Foundation
import Pipeline
import Toolkit

/// The options of a command that makes many outputs: a batch file, takes, the output folder,
/// the shard, resuming (docs/batch.md). The batch itself runs in the library (``BatchRun``).
struct BatchOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Run every line of a JSON Lines file (docs/batch.md), loading the models once.", valueName: "file.jsonl"))
    var batch: String?

    @Option(name: .customLong("output-dir"), help: ArgumentHelp(
        "The folder that a batch or several takes write into, with manifest.jsonl (docs/batch.md, \"Naming\").", valueName: "dir"))
    var outputDirectory: String?

    @Option(name: .customShort("n"), help: ArgumentHelp("Takes per prompt (seeds SEED, SEED+1, …; drawn at random without --seed).", valueName: "count"))
    var takes: Int?

    @Option(help: ArgumentHelp("One take per seed: a list such as 1,2,5-9.", valueName: "list"))
    var seeds: String?

    @Option(help: ArgumentHelp("Run only the tasks i with i mod N = K (0-based), or auto: the index and count of this Slurm "
        + "array task or Kubernetes Indexed Job pod.", valueName: "K/N|auto"))
    var shard: String?

    @Flag(name: .customLong("skip-existing"), help: "Leave alone the outputs that a manifest in the folder records as done.")
    var skipExisting = false

    /// Whether the command makes many outputs (into the output folder) rather than one.
    var isBatch: Bool { batch != nil || outputDirectory != nil || takes != nil || seeds != nil }

    func validate() throws {
        if takes != nil && seeds != nil { throw ValidationError("give either -n or --seeds") }
        if isBatch && outputDirectory == nil {
            throw ValidationError("--batch, -n and --seeds write into a folder: give --output-dir DIR")
        }
        if shard != nil && !isBatch { throw ValidationError("--shard needs --batch or several takes (--output-dir)") }
        if skipExisting && !isBatch { throw ValidationError("--skip-existing needs --output-dir") }
        try usage { _ = (try takes(baseSeed: nil), try resolvedShard()) }
    }

    /// The takes per line, numbered from `baseSeed` when given.
    func takes(baseSeed: UInt64?) throws -> Takes {
        if let seeds { return try Takes(seeds: seeds) }
        return try Takes(count: takes ?? 1, baseSeed: baseSeed)
    }

    /// The shard given, read from the scheduler's environment for `auto`.
    func resolvedShard() throws -> Shard {
        guard let shard else { return .all }
        return shard == "auto" ? try Shard.auto(environment: ProcessInfo.processInfo.environment) : try Shard(shard)
    }

    /// The output folder.
    var folder: OutputFolder { OutputFolder(URL(fileURLWithPath: outputDirectory ?? ".")) }

    /// The batch file's tasks, or the takes of the command's one `line`; takes are numbered from
    /// `baseSeed` when given.
    func plan<Line: BatchLine>(baseSeed: UInt64?, single line: () throws -> Line) throws -> BatchPlan<Line> {
        let takes = try takes(baseSeed: baseSeed)
        if let batch { return try BatchPlan(file: URL(fileURLWithPath: batch), folder: folder, takes: takes) }
        return try BatchPlan(lines: [(0, .success(try line()))], folder: folder, takes: takes)
    }

    /// Runs `plan` with `job` on this shard, printing each task's progress, each failure, and with
    /// `--json` each task's manifest entry; fails at the end if any task failed. Neither the batch
    /// file nor `inputs` is overwritten. Errors name the batch file, or `single` without one.
    func run<Job: BatchJob>(_ job: Job, plan: BatchPlan<Job.Line>, pipeline: AuffusionPipeline, inputs: [URL] = [],
                            single: String = "the prompt", peaks: PeakOptions, report: ReportOptions) throws {
        let inputs = [batch].compactMap { $0.map(URL.init(fileURLWithPath:)) } + inputs
        var run = BatchRun(job: job, plan: plan, shard: try resolvedShard(), skipExisting: skipExisting, inputs: inputs)
        run.guardsPeaks = peaks.peakGuard
        var progress = report.progress()
        let source = batch ?? single
        let observer = BatchRun<Job>.Observer(
            started: { position, count, label in
                report.say("[\(position)/\(count)] \(label)")
                progress = report.progress()
            },
            progress: { task in
                switch task {
                case .step(let done, let total): progress.show("step \(done)/\(total)", done: done, of: total)
                case .rendering(let work): _ = progress.rendering()(work)
                }
                return true
            },
            finished: { entry, warnings in
                progress.finish()
                warnings.forEach(report.warn)
                if let error = entry.error {
                    Console.error("error: \(source):\(entry.line + 1): \(ErrorLine.oneLine(error))\n")
                }
                // Written at once, not through print's buffer: a reader of a pipe sees each task as
                // it ends, and a scheduler's SIGTERM loses none of them.
                if report.json, let line = try? entry.jsonLine() { Console.output(line + "\n") }
            })
        let summary = try run.run(pipeline: pipeline, drawSeed: Seeds.draw, observer: observer)
        report.say("\(summary.done) done, \(summary.skipped) skipped, \(summary.failed) failed; manifest \(summary.manifest.path)")
        if summary.failed > 0 {
            throw CLIError("\(summary.failed) of \(summary.done + summary.skipped + summary.failed) tasks failed; "
                + "\(summary.manifest.path) lists why")
        }
    }
}

/// Seeds for runs that were given none: drawn at random and reported, so the output can be made
/// again (`--seed`).
enum Seeds {
    static func draw() -> UInt64 { UInt64.random(in: 0..<(1 << 32)) }
}
