import AudioDSP
import Foundation
import Pipeline

/// A batch of generations: each line's prompt and fields over the command's defaults.
public struct GenerationBatchJob: BatchJob {
    /// The request each line starts from (its prompt is replaced by the line's).
    public var defaults: GenerationRequest

    public init(defaults: GenerationRequest) { self.defaults = defaults }

    public func run(_ line: BatchItem, seed: UInt64, pipeline: AuffusionPipeline,
                    progress: @escaping (Int, Int) -> Bool) throws -> BatchProduct {
        let request = line.request(defaults: defaults)
        var noise = NoiseSource(seed: seed)
        let result = try pipeline.generate(request, noise: &noise) { progress($0.step, $0.total) }
        let dropped = result.droppedTokenCount
        return BatchProduct(audio: result.audio, prompt: request.prompt, settings: .generation(GenerationSettings(request)),
                            warnings: dropped > 0 ? ["the prompt is longer than 75 tokens; the last \(dropped) were dropped"] : [])
    }

    public func label(of line: BatchItem) -> String { line.prompt }
}

/// A batch of edits: each line an edit plan (``EditBatchLine``), its input clip read from the
/// batch file's folder, all noise from the task's seed (as `auffusion edit --seed`).
public struct EditBatchJob: BatchJob {
    /// The folder that the lines' `"input"` paths are relative to.
    public var inputFolder: URL
    public var crossfadeSeconds = 0.020
    /// Return the decoded canvas even when every pass is masked.
    public var raw = false
    /// Sample the clip's VAE posterior (from the seed) instead of taking its mean.
    public var samplePosterior = false

    public init(inputFolder: URL) { self.inputFolder = inputFolder }

    public func run(_ line: EditBatchLine, seed: UInt64, pipeline: AuffusionPipeline,
                    progress: @escaping (Int, Int) -> Bool) throws -> BatchProduct {
        var noise = NoiseSource(seed: seed)
        let input = line.plan.input.map { URL(fileURLWithPath: $0, relativeTo: inputFolder).standardizedFileURL }
        var warnings: [String] = []
        let clip = try input.map { url in
            var posterior: NoiseSource? = samplePosterior ? noise : nil
            let clip = try ClipLatents(encoding: try AudioFile.read(url), pipeline: pipeline, posteriorNoise: &posterior)
            if let posterior { noise = posterior }
            if clip.wasCropped { warnings.append("\(url.lastPathComponent) is longer than the canvas; only its start is edited") }
            return clip
        }
        var plan = try line.plan.plan(clipDuration: clip?.duration, pipeline: pipeline)
        plan.crossfadeSeconds = crossfadeSeconds
        plan.raw = raw
        let result = try plan.run(clip: clip, pipeline: pipeline, noise: &noise) { progress($0.stepsDone, $0.totalSteps) }
        let settings = EditSettings(plan: line.plan, crossfadeMilliseconds: crossfadeSeconds * 1000, raw: raw,
                                    samplePosterior: samplePosterior)
        return BatchProduct(audio: result.output.audio, prompt: label(of: line), settings: .edit(settings), input: input,
                            warnings: warnings)
    }

    public func label(of line: EditBatchLine) -> String { line.plan.passes.last?.prompt ?? "" }
}
