import AudioDSP
import Editing
import FileOutput
import Foundation
import Pipeline

/// What one kind of batch does with one line: a generation from a prompt, an edit plan on a
/// clip. ``BatchRun`` does the rest (shards, takes, skipping, writing, the manifest) the same
/// way for every kind.
public protocol BatchJob: Sendable {
    associatedtype Line: BatchLine
    /// Runs `line` with noise seeded by `seed`.
    /// - Parameter progress: called after each denoising step with the steps done and the total;
    ///   returning `false` stops the run.
    func run(_ line: Line, seed: UInt64, pipeline: AuffusionPipeline, progress: @escaping (_ done: Int, _ total: Int) -> Bool) throws -> BatchProduct
    /// What progress shows for `line` (its prompt).
    func label(of line: Line) -> String
    /// The command whose runs the job repeats (`generate`, `edit`), for the records.
    var command: String { get }
}

/// What a job made of one line: the audio to write and the record of the run (its outputs and
/// timings are filled in when the audio is written). Not `Sendable`, as ``EditResult``.
public struct BatchProduct {
    public var audio: AudioBuffer
    /// An edit of a user's file: when it has fills, the output is that file with the fills
    /// spliced in, in its own format, as `auffusion edit` writes it, instead of ``audio``.
    public var edit: (result: EditResult, file: EditedFile)?
    public var record: RunRecord
    /// Files the run read (the input clip), never to be overwritten.
    public var inputs: [URL]
    /// Things the user should know (a prompt cut to 77 tokens, a clip cropped to the canvas).
    public var warnings: [String]

    public init(audio: AudioBuffer, record: RunRecord, inputs: [URL] = [], warnings: [String] = []) {
        self.audio = audio
        self.record = record
        self.inputs = inputs
        self.warnings = warnings
    }
}

/// Runs the tasks of one shard of a batch, each on its own: a task that fails is recorded as
/// failed and the next one runs. Each output is written atomically (folders created inside the
/// output folder as needed), then its manifest entry is appended and flushed, so a killed run
/// loses at most the task in progress and `skipExisting` resumes it.
public struct BatchRun<Job: BatchJob>: Sendable {
    /// What a caller hears while the batch runs.
    public struct Observer {
        /// A task starts: its position in this run (1-based), the number of tasks, its label.
        public var started: (_ position: Int, _ count: Int, _ label: String) -> Void
        /// A denoising step of the current task ended; `false` stops it.
        public var progress: (_ done: Int, _ total: Int) -> Bool
        /// A task ended (done, failed or skipped), with its warnings.
        public var finished: (_ entry: BatchManifestEntry, _ warnings: [String]) -> Void

        public init(started: @escaping (Int, Int, String) -> Void = { _, _, _ in },
                    progress: @escaping (Int, Int) -> Bool = { _, _ in true },
                    finished: @escaping (BatchManifestEntry, [String]) -> Void = { _, _ in }) {
            self.started = started
            self.progress = progress
            self.finished = finished
        }
    }

    /// How a run ended.
    public struct Summary: Sendable, Equatable {
        public var done = 0, skipped = 0, failed = 0
        /// The manifest the run appended to.
        public var manifest: URL
    }

    public var job: Job
    public var plan: BatchPlan<Job.Line>
    public var shard: Shard
    /// Leave tasks alone whose output a manifest of the folder records as done.
    public var skipExisting: Bool
    /// Whether ``PeakGuard`` scales audio that would clip.
    public var guardsPeaks = true
    /// Files the batch reads (the batch file itself), never to be overwritten.
    public var inputs: [URL]

    public init(job: Job, plan: BatchPlan<Job.Line>, shard: Shard = .all, skipExisting: Bool = false, inputs: [URL] = []) {
        self.job = job
        self.plan = plan
        self.shard = shard
        self.skipExisting = skipExisting
        self.inputs = inputs
    }

    /// Runs the shard's tasks in order.
    /// - Parameter drawSeed: the seed of a task that has none (the caller's random source).
    /// - Throws: only what stops every task: the output folder or the manifest cannot be
    ///   written, the model folder cannot be read. A task's own failure is in its entry.
    public func run(pipeline: AuffusionPipeline, drawSeed: () -> UInt64, observer: Observer = Observer()) throws -> Summary {
        try FileManager.default.createDirectory(at: plan.folder.url, withIntermediateDirectories: true)
        let manifest = try AppendedLines(BatchManifest.url(in: plan.folder, shard: shard))
        let model = try InversionFingerprint.model(at: pipeline.directory.root)
        let finished = skipExisting ? BatchManifest.finishedOutputs(in: plan.folder) : []
        let tasks = plan.tasks(in: shard)
        var summary = Summary(manifest: manifest.url)
        for (position, task) in tasks.enumerated() {
            var entry = BatchManifestEntry(line: task.line, take: task.take, status: .done, shard: shard.description,
                                           record: RunRecord(command: job.command, outputs: RunRecord.Files(audio: task.output?.path),
                                                             elapsed: 0))
            if let output = task.output, finished.contains(output.path) {
                entry.status = .skipped
                summary.skipped += 1
                observer.finished(entry, [])
                continue
            }
            let label = (try? task.item.get()).map(job.label)
            observer.started(position + 1, tasks.count, label ?? "line \(task.line + 1)")
            let start = ContinuousClock.now
            var warnings: [String] = []
            do {
                let line = try task.item.get()
                let seed = task.seed ?? drawSeed()
                entry.record.seed = seed
                entry.model = model
                let product = try run(line, output: task.output, seed: seed, progress: observer.progress, pipeline: pipeline)
                entry.record = product.record
                warnings = product.warnings
                summary.done += 1
            } catch {
                entry.record.prompt = label
                entry.status = .failed
                entry.error = "\(error)"
                summary.failed += 1
            }
            entry.record.timings.total = (ContinuousClock.now - start) / .seconds(1)
            try manifest.append(try entry.jsonLine())
            observer.finished(entry, warnings)
        }
        return summary
    }

    /// Runs one task and writes its output; returns what it made, its record completed.
    private func run(_ line: Job.Line, output: URL?, seed: UInt64, progress: @escaping (Int, Int) -> Bool,
                     pipeline: AuffusionPipeline) throws -> BatchProduct {
        guard let output else { throw BatchFailure("the line has no output") }
        var product = try job.run(line, seed: seed, pipeline: pipeline, progress: progress)
        try plan.folder.createFolders(for: output)
        var outputs = try RunOutputs(audio: output, inputs: inputs + product.inputs)
        outputs.guardsPeaks = guardsPeaks
        if let (result, file) = product.edit, !result.fills.isEmpty {
            let written = try outputs.write(result, into: file) { product.warnings.append($0) }
            product.record.outputs = written.files
            product.record.sampleRate = file.outputRate
            product.record.details = (product.record.details ?? [:]).merging(file.recordDetails(output: output, fills: written.fills)) { $1 }
        } else {
            product.record.outputs.audio = output.path
            product.record.outputs.peakGainDecibels = try outputs.writeAudio(product.audio, to: output) { product.warnings.append($0) }
        }
        return product
    }
}
