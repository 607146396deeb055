import AudioDSP
import Editing
import Foundation
import Pipeline

/// A batch of generations: each line's prompt and fields over the command's defaults, recorded
/// as `auffusion generate --json` records a run.
public struct GenerationBatchJob: BatchJob {
    /// The request each line starts from (its prompt is replaced by the line's).
    public var defaults: GenerationRequest

    public init(defaults: GenerationRequest) { self.defaults = defaults }

    public var command: String { "generate" }

    public func run(_ line: BatchItem, seed: UInt64, pipeline: AuffusionPipeline,
                    progress: @escaping (TaskProgress) -> Bool) throws -> BatchProduct {
        let request = line.request(defaults: defaults)
        var noise = NoiseSource(seed: seed)
        let result = try pipeline.generate(request, noise: &noise, progress: { progress(.step(done: $0.step, total: $0.total)) },
                                           rendering: { progress(.rendering($0)) })
        let dropped = result.droppedTokenCount
        var record = RunRecord(command: command, request: request, seed: seed, result: result, elapsed: 0)
        record.addDetails(["windows": .number(Double(pipeline.windows(of: request).offsets.count))])   // as a single generate's
        return BatchProduct(audio: result.audio, record: record,
                            warnings: dropped > 0 ? ["the prompt is longer than 75 tokens; the last \(dropped) were dropped"] : [])
    }

    public func label(of line: BatchItem) -> String { line.prompt }

    public func settings(of line: BatchItem) -> String { "\(line.request(defaults: defaults))" }
}

/// A batch of edits: each line an edit plan (``EditBatchLine``) with its input clip (of any
/// length, ``EditPlan/run(on:pipeline:noise:samplePosterior:posteriorNoise:renderSource:progress:)``)
/// read from the batch file's folder, all noise drawn from the task's seed, and the result
/// written into the user's file as a single edit writes it (``EditedFile``), recorded as
/// `auffusion edit --json` records a run (the plan itself under `details.plan`).
public struct EditBatchJob: BatchJob {
    /// The folder that the lines' `"input"` paths are relative to.
    public var inputFolder: URL
    /// The command line's finishing flags, applied over each line's own (``FinishingChoices``).
    public var finishing = FinishingChoices()
    /// Sample the clip's VAE posterior (from the seed) instead of taking its mean.
    public var samplePosterior = false
    /// What the edited files change of their inputs' formats (``EditedFile``).
    public var format = OutputFormat()

    public init(inputFolder: URL) { self.inputFolder = inputFolder }

    public var command: String { "edit" }

    public func run(_ line: EditBatchLine, seed: UInt64, pipeline: AuffusionPipeline,
                    progress: @escaping (TaskProgress) -> Bool) throws -> BatchProduct {
        var noise = NoiseSource(seed: seed)
        let input = line.plan.inputClip(relativeTo: inputFolder)
        let file = try input.map { url in
            var file = try EditedFile(source: url)
            file.overrides = format
            try file.validate()
            return file
        }
        let clip = try input.map { try EditClip(try AudioFile.read($0), pipeline: pipeline) }
        let plan = finishing.applied(to: try line.plan.plan(clipDuration: clip?.duration, folder: inputFolder, pipeline: pipeline))
        var run = EditRun(plan, clip: clip)
        run.samplePosterior = samplePosterior
        let (result, placement) = try run(pipeline: pipeline, noise: &noise) { edit in
            edit.rendering.map { progress(.rendering($0)) } ?? progress(.step(done: edit.stepsDone, total: edit.totalSteps))
        }
        var record = RunRecord(command: command, request: plan.passes.last?.request, seed: seed, result: result.output, elapsed: 0,
                               input: input)
        record.sourcePrompt = plan.passes.last?.attention?.sourcePrompt
        record.addDetails(["passes": .number(Double(plan.passes.count)), "plan": try JSONValue(line.plan),
                           "crossfade_ms": .number(plan.crossfadeSeconds * 1000), "raw": .bool(plan.raw),
                           "fill_level": .string(plan.fillLevel.rawValue)].merging(placement) { $1 })
        var product = BatchProduct(audio: result.output.audio, record: record)
        product.edit = file.map { (result, $0) }
        return product
    }

    public func label(of line: EditBatchLine) -> String { line.plan.passes.last?.prompt ?? "" }

    public func inputs(of line: EditBatchLine) -> [URL] { line.plan.inputs(relativeTo: inputFolder) }

    public func settings(of line: EditBatchLine) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys   // the same text in every process (dictionaries have no order)
        let plan = (try? encoder.encode(line.plan)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        // The plan names its inputs as the line spells them; their absolute paths would change
        // when the data is moved, mounted elsewhere or reached through a link.
        let files = inputs(of: line).map { url in
            let attributes = try? FileManager.default.attributesOfItem(atPath: url.path)
            return "\(attributes?[.size] ?? "") \(attributes?[.modificationDate] ?? "")"
        }
        return ([plan, "\(finishing)", "\(format)", "\(samplePosterior)"] + files).joined(separator: "\n")
    }
}

extension JSONValue {
    /// `value` as JSON.
    init(_ value: some Encodable) throws {
        self = try JSONDecoder().decode(JSONValue.self, from: try JSONEncoder().encode(value))
    }
}
