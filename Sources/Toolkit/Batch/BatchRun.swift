import AudioDSP
import Compute
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
    /// - Parameter progress: called after each denoising step, and after each window of the work
    ///   around the steps (encoding a clip, decoding, vocoding); returning `false` stops the run.
    func run(_ line: Line, seed: UInt64, pipeline: AuffusionPipeline, progress: @escaping (TaskProgress) -> Bool) throws -> BatchProduct
    /// What progress shows for `line` (its prompt).
    func label(of line: Line) -> String
    /// The command whose runs the job repeats (`generate`, `edit`), for the records.
    var command: String { get }
    /// The files `line` reads (its input clip), never to be overwritten by any task.
    func inputs(of line: Line) -> [URL]
    /// Everything but the seed and the model that decides what `line` makes, as text (its
    /// request or plan, the options over it, its input files' sizes and dates): an output made
    /// from other settings is not done (``BatchManifest/finishedTasks(in:)``).
    func settings(of line: Line) -> String
}

extension BatchJob {
    public func inputs(of line: Line) -> [URL] { [] }
}

/// What a batch task reports while it runs: a denoising step ended (steps done of all its steps,
/// every pass of an edit plan counted), or a window of the work around the steps did.
public enum TaskProgress: Sendable, Equatable {
    case step(done: Int, total: Int)
    case rendering(RenderProgress)
}

/// What a job made of one line: the audio to write and the record of the run (its outputs and
/// timings are filled in when the audio is written). Not `Sendable`, as ``EditResult``.
public struct BatchProduct {
    public var audio: AudioBuffer
    /// An edit of a user's file: when it has fills, the output is that file with the fills
    /// spliced in, in its own format, as `auffusion edit` writes it, instead of ``audio``.
    public var edit: (result: EditResult, file: EditedFile)?
    public var record: RunRecord
    /// Things the user should know (a prompt cut to 77 tokens, a clip cropped to the canvas).
    public var warnings: [String]

    public init(audio: AudioBuffer, record: RunRecord, warnings: [String] = []) {
        self.audio = audio
        self.record = record
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
        /// A denoising step, or a window of the rendering around the steps, of the current task
        /// ended; `false` stops it.
        public var progress: (TaskProgress) -> Bool
        /// A task ended (done, failed or skipped), with its warnings.
        public var finished: (_ entry: BatchManifestEntry, _ warnings: [String]) -> Void

        public init(started: @escaping (Int, Int, String) -> Void = { _, _, _ in },
                    progress: @escaping (TaskProgress) -> Bool = { _ in true },
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
    ///   written (``BatchError/noSpace(path:)`` once a task finds its file system full, after
    ///   that task's entry), the model folder cannot be read. A task's own failure is in its entry.
    public func run(pipeline: AuffusionPipeline, drawSeed: () -> UInt64, observer: Observer = Observer()) throws -> Summary {
        try checkNoOutputIsAnInput()
        try FileManager.default.createDirectory(at: plan.folder.url, withIntermediateDirectories: true)
        let manifest = try AppendedLines(BatchManifest.url(in: plan.folder, shard: shard))
        let model = try InversionFingerprint.model(at: pipeline.directory.root)
        let finished = skipExisting ? BatchManifest.finishedTasks(in: plan.folder) : []
        let tasks = plan.tasks(in: shard)
        var summary = Summary(manifest: manifest.url)
        for (position, task) in tasks.enumerated() {
            var entry = BatchManifestEntry(line: task.line, take: task.take, status: .done, shard: shard.description,
                                           record: RunRecord(command: job.command, outputs: RunRecord.Files(audio: task.output?.path),
                                                             elapsed: 0))
            let label = (try? task.item.get()).map(job.label)
            entry.output = task.output.map(plan.folder.relativePath)
            entry.fingerprint = try? fingerprint(of: task, model: model)
            if let output = entry.output, let fingerprint = entry.fingerprint,
               finished.contains(BatchManifest.TaskKey(output: output, fingerprint: fingerprint)),
               let file = task.output, FileManager.default.fileExists(atPath: file.path) {
                entry.status = .skipped
                (entry.record.prompt, entry.record.seed) = (label, task.seed)
                summary.skipped += 1
                observer.finished(entry, [])
                continue
            }
            observer.started(position + 1, tasks.count, label ?? "line \(task.line + 1)")
            let start = ContinuousClock.now
            var warnings: [String] = []
            var full = false
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
                entry.record.outputs = RunRecord.Files()   // nothing was written, whatever the kind of batch
                entry.status = .failed
                entry.error = "\(error)"
                summary.failed += 1
                full = Self.meansNoSpace(error)
            }
            entry.record.timings.total = (ContinuousClock.now - start) / .seconds(1)
            try manifest.append(try entry.jsonLine())
            observer.finished(entry, warnings)
            if full, let output = task.output { throw BatchError.noSpace(path: output.path) }
        }
        return summary
    }

    /// What decides `task`'s output: the job's command and settings of the line, the seed (or
    /// that it is drawn), the model, and the peak guard when it is off (a part only then, so
    /// that the fingerprints of runs with it stay as they were).
    private func fingerprint(of task: BatchPlan<Job.Line>.Task, model: String) throws -> String {
        var hash = FNV1a()
        let parts = [job.command, job.settings(of: try task.item.get()), task.seed.map(String.init) ?? "drawn", model]
        for part in parts + (guardsPeaks ? [] : ["no peak guard"]) {
            hash.add(part + "\u{0}")
        }
        return hash.hex
    }

    /// Whether `error` says the output's file system is full: the next task's output would not fit either.
    private static func meansNoSpace(_ error: any Error) -> Bool {
        switch error {
        case AudioFileError.noSpace, AtomicFile.Error.noSpace, CocoaError.fileWriteOutOfSpace: true
        default: false
        }
    }

    /// Refuses the whole batch, on every shard alike, when a task would write a file that a line
    /// reads: which shard runs first would decide what that line edits.
    /// - Throws: ``BatchError/outputIsInput(path:outputLine:inputLine:)``.
    public func checkNoOutputIsAnInput() throws {
        var readers: [PathKey: Int] = [:]
        var resolved = OutputFolder.ResolvedPaths()
        for task in plan.tasks where task.take == 0 {
            guard case .success(let line) = task.item else { continue }
            for input in job.inputs(of: line) {
                let path = PathKey(resolved.of(input))
                readers[path] = readers[path] ?? task.line
            }
        }
        guard !readers.isEmpty else { return }
        for task in plan.tasks {
            if let output = task.output, let reader = readers[PathKey(resolved.of(output))] {
                throw BatchError.outputIsInput(path: output.path, outputLine: task.line + 1, inputLine: reader + 1)
            }
        }
    }

    /// Runs one task and writes its output; returns what it made, its record completed. The
    /// output is checked before the run (``RunOutputs``).
    private func run(_ line: Job.Line, output: URL?, seed: UInt64, progress: @escaping (TaskProgress) -> Bool,
                     pipeline: AuffusionPipeline) throws -> BatchProduct {
        guard let output else { throw BatchFailure("the line has no output") }
        try plan.folder.createFolders(for: output)
        var outputs = try RunOutputs(audio: output, inputs: inputs + job.inputs(of: line))
        outputs.guardsPeaks = guardsPeaks
        var product = try job.run(line, seed: seed, pipeline: pipeline, progress: progress)
        if let (result, file) = product.edit, !result.fills.isEmpty {
            var record = product.record
            try outputs.write(result, into: file, record: &record) { product.warnings.append($0) }
            product.record = record
        } else {
            product.record.outputs.audio = output.path
            product.record.outputs.peakGainDecibels = try outputs.writeAudio(product.audio, to: output) { product.warnings.append($0) }
        }
        return product
    }
}
