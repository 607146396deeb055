import Editing
import FileOutput
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
    ///   - progress, rendering: each step, and each window decoded and vocoded (``AuffusionPipeline/generate(_:noise:progress:rendering:)``).
    ///   - warn: hears what the peak guard did.
    public func callAsFunction(pipeline: AuffusionPipeline, noise: inout NoiseSource, outputs: RunOutputs, started: Date,
                               progress: (DenoiseProgress) -> Bool = { _ in true }, rendering: (RenderProgress) -> Bool = { _ in true },
                               warn: (String) -> Void) throws -> RunRecord {
        let result = try pipeline.generate(request, noise: &noise, progress: progress, rendering: rendering)
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
    /// The stored map level to write; `nil`: ``AttentionMapFiles/defaultResolution(pipeline:canvasFrames:)``.
    public var resolution: AttentionResolution?

    public init(_ request: GenerationRequest, seed: UInt64?, resolution: AttentionResolution? = nil) {
        self.request = request
        self.seed = seed
        self.resolution = resolution
    }

    /// Why the maps cannot be made as asked; checked before any work.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The request spans more than one canvas of the model (`seconds` long), and the maps
        /// are recorded on one.
        case longerThanCanvas(seconds: Double)

        public var description: String {
            switch self {
            case .longerThanCanvas(let seconds):
                "attention maps are recorded on one canvas of the model: give a duration of \(seconds) s or less"
            }
        }
    }

    /// Generates while recording attention and writes into `folder` (made if missing; a run that
    /// fails or is interrupted writes nothing there, and leaves no folder it made):
    /// `audio.wav`, `spectrogram.png`, one heatmap per word and `maps.npy` (``AttentionMapFiles``). Returns the run's record (`resolution`,
    /// `tokens` and `heatmaps` in its details).
    /// - Parameters:
    ///   - inputs: files the run reads, never to be overwritten.
    ///   - guardsPeaks: whether ``PeakGuard`` scales audio that would clip.
    /// - Throws: ``Failure``, ``AttentionMapFiles/Failure`` and ``OutputError`` before any work; the run's errors.
    public func callAsFunction(pipeline: AuffusionPipeline, noise: inout NoiseSource, into folder: URL, inputs: [URL], guardsPeaks: Bool = true,
                               started: Date, progress: (DenoiseProgress) -> Bool = { _ in true },
                               warn: (String) -> Void) throws -> RunRecord {
        let canvas = pipeline.canvas(of: request).frames
        guard canvas <= pipeline.canvasFrames else {
            throw Failure.longerThanCanvas(seconds: Double(pipeline.canvasFrames) / pipeline.melParameters.framesPerSecond)
        }
        let level = try AttentionMapFiles.level(resolution, pipeline: pipeline, canvasFrames: canvas)
        let folder = folder.standardizedFileURL
        let made: MadeFolders
        do { made = try MadeFolders(folder) } catch { throw OutputError.cannotCreateFolder(path: folder.path) }
        do {
            var outputs = try RunOutputs(audio: folder.appendingPathComponent("audio.wav"), spectrogram: folder.appendingPathComponent("spectrogram.png"),
                                         maps: folder, inputs: inputs)
            outputs.guardsPeaks = guardsPeaks
            let record = try run(level, pipeline: pipeline, noise: &noise, outputs: outputs, started: started, progress: progress, warn: warn)
            made.keep()
            return record
        } catch {
            made.removeEmpty()
            throw error
        }
    }

    private func run(_ level: AttentionResolution, pipeline: AuffusionPipeline, noise: inout NoiseSource, outputs: RunOutputs, started: Date,
                     progress: (DenoiseProgress) -> Bool, warn: (String) -> Void) throws -> RunRecord {
        let store = AttentionStore(layersPerEvaluation: pipeline.unetConfiguration.attentionLayerCount, promptCount: 1)
        let result = try pipeline.promptToPrompt([request.prompt], request: request, noise: &noise, controller: store, progress: progress)
        guard let generated = result.outputs.first, let folder = outputs.maps else { throw PipelineError.invalidRequest("the run made no output") }
        // The audio, its picture and the maps replace an earlier run's together, or not at all.
        let (outputPaths, written) = try AtomicFile.committingTogether {
            (try outputs.write(generated, warn: warn),
             try AttentionMapFiles.write(store: store, prompt: request.prompt, index: 0, tokenizer: pipeline.tokenizer,
                                         image: generated.image, resolution: level, to: folder))
        }
        var record = RunRecord(command: "attention", request: request, seed: seed, result: generated, outputs: outputPaths, elapsed: 0)
        record.outputs.maps = folder.path
        record.addDetails(["resolution": .string(level.description), "tokens": .number(Double(written.tokenCount)),
                           "heatmaps": .array(written.pictures.map(JSONValue.string))])
        record.timings.total = Date().timeIntervalSince(started)
        return record
    }
}
