import Editing
import Foundation
import Pipeline

/// One generation as every front end runs it (`auffusion generate`, the server): the request
/// denoised from its noise, its outputs written, its record made.
public struct GenerationRun: Sendable {
    public var request: GenerationRequest
    /// The seed the noise comes from, for the record; `nil` when it came from a file.
    public var seed: UInt64?

    public init(_ request: GenerationRequest, seed: UInt64?) {
        self.request = request
        self.seed = seed
    }

    /// Generates, writes `outputs`, and returns the run's record (`windows`: windows of the
    /// canvas per step, in its details).
    /// - Parameters:
    ///   - started: when the run was asked for, for the record's timings.
    ///   - warn: hears what the peak guard did.
    public func callAsFunction(pipeline: AuffusionPipeline, noise: inout NoiseSource, outputs: RunOutputs, started: Date,
                               progress: (Pipeline.Progress) -> Bool = { _ in true }, warn: (String) -> Void) throws -> RunRecord {
        let result = try pipeline.generate(request, noise: &noise, progress: progress)
        let files = try outputs.write(result, warn: warn)
        var record = RunRecord(command: "generate", request: request, seed: seed, result: result, outputs: files,
                               elapsed: Date().timeIntervalSince(started))
        record.addDetails(["windows": .number(Double(pipeline.windows(of: request).offsets.count))])
        return record
    }
}

/// A generation with the per-word cross-attention maps of its prompt, as `auffusion attention`
/// and the server make it: the audio, its spectrogram picture and ``AttentionMapFiles`` in one folder.
public struct AttentionMapRun: Sendable {
    public var request: GenerationRequest
    /// The seed the noise comes from, for the record; `nil` when it came from a file.
    public var seed: UInt64?
    /// The stored map level to write.
    public var resolution: AttentionResolution

    public init(_ request: GenerationRequest, seed: UInt64?, resolution: AttentionResolution) {
        self.request = request
        self.seed = seed
        self.resolution = resolution
    }

    /// Generates while recording attention, writes `outputs` and the maps into their `maps`
    /// folder, and returns the run's record (`resolution`, `tokens` and `heatmaps` in its details).
    public func callAsFunction(pipeline: AuffusionPipeline, noise: inout NoiseSource, outputs: RunOutputs, started: Date,
                               progress: (Pipeline.Progress) -> Bool = { _ in true }, warn: (String) -> Void) throws -> RunRecord {
        let store = AttentionStore(layersPerEvaluation: pipeline.unetConfiguration.attentionLayerCount, promptCount: 1)
        let result = try pipeline.promptToPrompt([request.prompt], request: request, noise: &noise, controller: store, progress: progress)
        guard let generated = result.outputs.first else { throw PipelineError.invalidRequest("the run made no output") }
        var record = RunRecord(command: "attention", request: request, seed: seed, result: generated,
                               outputs: try outputs.write(generated, warn: warn), elapsed: 0)
        record.addDetails(["resolution": .string(resolution.description)])
        if let folder = outputs.maps {
            let written = try AttentionMapFiles.write(store: store, prompt: request.prompt, index: 0, tokenizer: pipeline.tokenizer,
                                                      image: generated.image, resolution: resolution, to: folder)
            record.outputs.maps = folder.path
            record.details?.merge(["tokens": .number(Double(written.tokenCount)), "heatmaps": .array(written.pictures.map(JSONValue.string))]) { $1 }
        }
        record.timings.total = Date().timeIntervalSince(started)
        return record
    }
}
