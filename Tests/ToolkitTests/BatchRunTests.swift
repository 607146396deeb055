import AudioDSP
import FileOutput
import Foundation
import Pipeline
import Testing
import TestSupport
import Toolkit

/// A job that writes a tone whose pitch follows the seed, and fails on the prompts it is told to
/// (those in `full` as a write to a full disk fails).
private struct ToneJob: BatchJob {
    var failing: Set<String> = []
    var full: Set<String> = []

    var command: String { "tone" }

    func run(_ line: BatchItem, seed: UInt64, pipeline: AuffusionPipeline, progress: @escaping (TaskProgress) -> Bool) throws -> BatchProduct {
        if failing.contains(line.prompt) { throw BatchFailure("\(line.prompt) cannot be made") }
        if full.contains(line.prompt) { throw AudioFileError.noSpace(path: "/out/\(line.prompt).wav") }
        _ = progress(.step(done: 1, total: 1))
        let samples = (0..<1600).map { Float(0.5 * sin(Double($0) * Double(seed % 100 + 1) * 0.01)) }
        return BatchProduct(audio: AudioBuffer(mono: samples, sampleRate: 16000),
                            record: RunRecord(command: command, seed: seed, elapsed: 0), warnings: ["note on \(line.prompt)"])
    }

    func label(of line: BatchItem) -> String { line.prompt }

    func settings(of line: BatchItem) -> String { line.prompt }
}

@Suite("BatchRun: every task runs on its own, is recorded as it ends, and is skipped once done")
struct BatchRunTests {
    let pipeline: AuffusionPipeline
    let folder: URL

    init() throws {
        pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("standard"))
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("batch-run-\(UUID().uuidString)")
    }

    private func plan(takes: Takes = .one) throws -> BatchPlan<BatchItem> {
        let lines = [#"{"prompt": "one", "seed": 4}"#, #"{"prompt": "broken"}"#, #"{"prompt": "two"}"#, #"{"nonsense": 1}"#,
                     #"{"prompt": "three", "output": "deep/er/three.flac"}"#]
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("batch.jsonl")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        return try BatchPlan(file: file, folder: OutputFolder(folder.appendingPathComponent("out")), takes: takes)
    }

    @Test("failures are recorded and the rest runs; drawn seeds only for tasks that run; warnings reach the observer")
    func failures() throws {
        var drawn: [UInt64] = []
        var events: [String] = []
        let run = BatchRun(job: ToneJob(failing: ["broken"]), plan: try plan())
        let observer = BatchRun<ToneJob>.Observer(started: { position, count, label in events.append("\(position)/\(count) \(label)") },
                                                  finished: { entry, warnings in events.append("\(entry.status) \(warnings)") })
        let summary = try run.run(pipeline: pipeline, drawSeed: {
            drawn.append(UInt64(100 + drawn.count))
            return drawn.last!
        }, observer: observer)
        #expect(summary.done == 3 && summary.failed == 2 && summary.skipped == 0)
        #expect(drawn == [100, 101, 102])
        #expect(events == ["1/5 one", "done [\"note on one\"]", "2/5 broken", "failed []", "3/5 two", "done [\"note on two\"]",
                           "4/5 line 4", "failed []", "5/5 three", "done [\"note on three\"]"])
        let entries = try String(contentsOf: summary.manifest, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        #expect(entries.map { $0?["status"] as? String } == ["done", "failed", "done", "failed", "done"])
        #expect(entries.map { $0?["seed"] as? Int } == [4, 100, 101, nil, 102])
        #expect(entries[1]?["error"] as? String == "broken cannot be made" && entries[1]?["prompt"] as? String == "broken")
        #expect((entries[1]?["outputs"] as? [String: Any])?.isEmpty == true, "a failed task wrote nothing")
        #expect((entries[3]?["error"] as? String)?.contains("unknown key \"nonsense\"") == true)
        #expect(try AudioFile.read(folder.appendingPathComponent("out/deep/er/three.flac")).frameCount == 1600)
    }

    @Test("a rerun that skips existing outputs redoes only the failed tasks; another shard's manifest counts too")
    func skipping() throws {
        let plan = try plan(takes: try Takes(count: 2, baseSeed: 1))
        let first = try BatchRun(job: ToneJob(failing: ["broken"]), plan: plan, shard: Shard(index: 0, count: 2))
            .run(pipeline: pipeline, drawSeed: { 0 })
        #expect(first.manifest.lastPathComponent == "manifest-0-of-2.jsonl" && first.done + first.failed == 5)
        let rerun = try BatchRun(job: ToneJob(), plan: plan, skipExisting: true).run(pipeline: pipeline, drawSeed: { 0 })
        // Shard 0/2 did the even tasks (0, 2, …, 8): 3 done and 2 failed (lines 1 and 3, take 0 —
        // line 3 does not decode and fails again).
        #expect(rerun.skipped == 3 && rerun.failed == 2 && rerun.done == 5)
        let again = try BatchRun(job: ToneJob(), plan: plan, skipExisting: true).run(pipeline: pipeline, drawSeed: { 0 })
        #expect(again.skipped == 8 && again.failed == 2 && again.done == 0)
    }

    @Test("an output made with the peak guard off is not the one made with it on, for --skip-existing")
    func peakGuardInFingerprint() throws {
        let plan = try plan()
        _ = try BatchRun(job: ToneJob(), plan: plan).run(pipeline: pipeline, drawSeed: { 0 })
        var unguarded = BatchRun(job: ToneJob(), plan: plan, skipExisting: true)
        unguarded.guardsPeaks = false
        let first = try unguarded.run(pipeline: pipeline, drawSeed: { 0 })
        #expect(first.done == 4 && first.skipped == 0)
        let second = try unguarded.run(pipeline: pipeline, drawSeed: { 0 })
        #expect(second.done == 0 && second.skipped == 4)
    }

    @Test("a task that finds the file system full stops the batch after its entry, instead of failing every task after it")
    func fullDisk() throws {
        var events: [String] = []
        let run = BatchRun(job: ToneJob(full: ["two"]), plan: try plan())
        let observer = BatchRun<ToneJob>.Observer(started: { _, _, label in events.append(label) })
        #expect(throws: BatchError.noSpace(path: folder.appendingPathComponent("out/000002.wav").path)) {
            try run.run(pipeline: pipeline, drawSeed: { 0 }, observer: observer)
        }
        #expect(events == ["one", "broken", "two"])
        let manifest = try String(contentsOf: folder.appendingPathComponent("out/manifest.jsonl"), encoding: .utf8)
        #expect(manifest.split(separator: "\n").count == 3 && manifest.contains("no space left on the device"))
    }

    @Test("a task reports the decoding and vocoding after its steps, as a single run does")
    func renderingProgress() throws {
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let file = folder.appendingPathComponent("batch.jsonl")
        try #"{"prompt": "a beep", "seed": 1}"#.write(to: file, atomically: true, encoding: .utf8)
        let plan = try BatchPlan<BatchItem>(file: file, folder: OutputFolder(folder.appendingPathComponent("out")), takes: .one)
        var defaults = GenerationRequest(prompt: "")
        defaults.stepCount = 2
        var seen: [String] = []
        let observer = BatchRun<GenerationBatchJob>.Observer(progress: { task in
            switch task {
            case .step(let done, let total): seen.append("step \(done)/\(total)")
            case .rendering(let work): seen.append("\(work.stage.rawValue) \(work.done)/\(work.total)")
            }
            return true
        })
        let summary = try BatchRun(job: GenerationBatchJob(defaults: defaults), plan: plan).run(pipeline: pipeline, drawSeed: { 0 }, observer: observer)
        #expect(summary.done == 1)
        // The fixture's scheduler (PNDM) evaluates 3 times for 2 steps; its one canvas is one window.
        #expect(seen == ["step 1/3", "step 2/3", "step 3/3", "decoding 1/1", "vocoding 1/1"], "\(seen)")
    }

    @Test("an edit line's fingerprint holds its inputs' sizes and dates, not where they are: a moved data folder resumes")
    func movedInputs() throws {
        let line = try EditBatchLine(json: Data(#"{"input": "clips/a.wav", "passes": [{"prompt": "x", "start": {"from": "clip"}}]}"#.utf8))
        let before = folder.appendingPathComponent("data"), after = folder.appendingPathComponent("moved")
        try FileManager.default.createDirectory(at: before.appendingPathComponent("clips"), withIntermediateDirectories: true)
        try AudioFile.write(AudioBuffer(mono: [Float](repeating: 0.1, count: 1600), sampleRate: 16000),
                            to: before.appendingPathComponent("clips/a.wav"))
        let settings = EditBatchJob(inputFolder: before).settings(of: line)
        #expect(settings.contains("\n\(44 + 3200) "), "\(settings)")   // the clip's size: the input was found
        try FileManager.default.moveItem(at: before, to: after)
        #expect(EditBatchJob(inputFolder: after).settings(of: line) == settings)
        try AudioFile.write(AudioBuffer(mono: [Float](repeating: 0.2, count: 3200), sampleRate: 16000),
                            to: after.appendingPathComponent("clips/a.wav"))
        #expect(EditBatchJob(inputFolder: after).settings(of: line) != settings)
    }
}
