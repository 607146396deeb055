import Editing
import FileOutput
import Foundation
import Pipeline

/// One edit plan run as every front end runs it (the command line, batch lines, the server): on
/// a clip of any length (``EditPlan/run(on:pipeline:noise:samplePosterior:posteriorNoise:renderSource:progress:)``)
/// or from noise, with the record's details of where it ran.
public struct EditRun {
    public var plan: EditPlan
    /// The clip to edit; `nil` runs the plan from noise.
    public var clip: EditClip?
    /// Encode the clip with a sample of the VAE posterior instead of its mean.
    public var samplePosterior = false
    /// Where a posterior sample draws from; `nil`: the run's noise.
    public var posteriorNoise: NoiseSource?
    /// Also render the last pass's source prompt.
    public var renderSource = false
    /// The user's file the clip was read from. When the edit has fills (every pass masked),
    /// ``run(command:seed:details:pipeline:noise:outputs:started:progress:warn:)`` writes this
    /// file with the fills spliced in, in its own format (``EditedFile``); otherwise the decoded result.
    public var file: EditedFile?
    /// Also write the per-word attention maps of the last pass's edited prompt at this level into
    /// the outputs' `maps` folder (``AttentionMapFiles``), when the run kept them (an attention
    /// edit). A level is named by its size on one canvas of the model; an edit run in windows
    /// writes that level's maps joined over the whole span.
    public var mapsResolution: AttentionResolution?

    public init(_ plan: EditPlan, clip: EditClip?) {
        self.plan = plan
        self.clip = clip
    }

    /// Runs the plan; returns its result and the record's details of where it ran: `spans`
    /// (`[[start, end], …]`, seconds of the clip) and `windows` (windows of the canvas per step).
    public func callAsFunction(pipeline: AuffusionPipeline, noise: inout NoiseSource,
                               progress: (EditProgress) -> Bool = { _ in true }) throws -> (result: EditResult, details: [String: JSONValue]) {
        guard let clip else {
            return (try plan.run(clip: nil, pipeline: pipeline, noise: &noise, renderSource: renderSource, progress: progress), [:])
        }
        let long = try plan.run(on: clip, pipeline: pipeline, noise: &noise, samplePosterior: samplePosterior,
                                posteriorNoise: posteriorNoise, renderSource: renderSource, progress: progress)
        let fps = pipeline.melParameters.framesPerSecond
        let spans = long.spans.spans.map { span in
            JSONValue.array([.number(Double(span.frames.lowerBound) / fps), .number(min(Double(span.frames.upperBound) / fps, clip.duration))])
        }
        return (long.edit, ["spans": .array(spans), "windows": .number(Double(long.spans.windowCount))])
    }
}

extension EditRun {
    /// Runs the plan as ``callAsFunction(pipeline:noise:progress:)`` does (rendering the source
    /// prompt too when `outputs` ask for its audio), writes `outputs`, and returns the result
    /// with the run's record: `command`, the last pass's request and source prompt, `seed`, and
    /// `details` with where the plan ran and, for an edit written into ``file``, its format and
    /// fills; with ``mapsResolution``, the edited prompt's attention maps too.
    /// - Parameters:
    ///   - started: when the run was asked for, for the record's timings.
    ///   - warn: hears what the peak guard did and what the output cannot keep of the input.
    /// - Throws: ``EditedFile/validate()``'s errors before any work, and
    ///   ``EditingError/formatOfRawResult(sampleRate:)`` for format overrides of a raw plan; the
    ///   plan's; the outputs'.
    public func run(command: String, seed: UInt64?, details: [String: JSONValue], pipeline: AuffusionPipeline,
                    noise: inout NoiseSource, outputs: RunOutputs, started: Date, progress: (EditProgress) -> Bool = { _ in true },
                    warn: (String) -> Void) throws -> (result: EditResult, record: RunRecord) {
        try file?.validate()
        if plan.raw, let file, file.overrides != OutputFormat() {
            throw EditingError.formatOfRawResult(sampleRate: pipeline.melParameters.sampleRate)
        }
        var run = self
        run.renderSource = outputs.sourceAudio != nil
        let (result, placement) = try run(pipeline: pipeline, noise: &noise, progress: progress)
        var record = RunRecord(command: command, request: plan.passes.last?.request, seed: seed, result: result.output,
                               elapsed: Date().timeIntervalSince(started), input: file?.source)
        record.addDetails(details.merging(placement) { $1 })
        // The audio and the maps replace an earlier run's together, or not at all, and a maps
        // folder the run made goes again if it fails; an edit written into the user's file is
        // recorded once it is in place (its length is read back).
        let mapsFolder = result.attentionStore != nil && mapsResolution != nil ? outputs.maps : nil
        let made: MadeFolders?
        do { made = try mapsFolder.map { try MadeFolders($0) } } catch { throw OutputError.cannotCreateFolder(path: mapsFolder?.path ?? "") }
        let (intoFile, maps): (IntoFile?, URL?)
        do {
            (intoFile, maps) = try write(result, into: outputs, record: &record, pipeline: pipeline, warn: warn)
            made?.keep()
        } catch {
            made?.removeEmpty()
            throw error
        }
        if let file, let intoFile { try outputs.complete(&record, written: intoFile, into: file) }
        if let maps { record.outputs.maps = maps.path }
        record.sourcePrompt = plan.passes.last?.attention?.sourcePrompt
        return (result, record)
    }

    /// What an edit written into the user's file needs for its record.
    private typealias IntoFile = (files: RunRecord.Files, fills: [FillReport])

    /// Writes the result and its maps in one commit; returns what an edit written into the
    /// user's file needs for its record, and the maps folder written.
    private func write(_ result: EditResult, into outputs: RunOutputs, record: inout RunRecord, pipeline: AuffusionPipeline,
                       warn: (String) -> Void) throws -> (IntoFile?, URL?) {
        try AtomicFile.committingTogether { () -> (IntoFile?, URL?) in
            var intoFile: IntoFile?
            if let file, !result.fills.isEmpty {
                intoFile = try outputs.write(result, into: file, warn: warn)
            } else {
                record.outputs = try outputs.write(result.output, source: result.source, warn: warn)
            }
            guard let folder = outputs.maps, let store = result.attentionStore, let mapsResolution,
                  let prompt = plan.passes.last?.request.prompt else { return (intoFile, nil) }
            _ = try AttentionMapFiles.write(store: store, prompt: prompt, index: 1, tokenizer: pipeline.tokenizer,
                                            image: result.output.image, resolution: store.storedResolution(atLevelOf: mapsResolution),
                                            to: folder)
            return (intoFile, folder)
        }
    }
}

extension EditedFile {
    /// The record's details of an edit written into this file: the output's `format` and, per
    /// fill, its `frames`, `level` rule, `context_db` (dBFS per channel), `gain_db`, whether the
    /// peak limiter acted (`limited`) and its largest reduction (`limiter_db`).
    public func recordDetails(output: URL?, fills: [FillReport]) -> [String: JSONValue] {
        let format: [String: JSONValue] = ["sample_rate": .number(outputRate), "channels": .number(Double(outputChannels)),
                                           "sample_format": .string(output.flatMap(outputEncoding)?.rawValue ?? "vorbis")]
        return ["format": .object(format), "fills": .array(fills.map { fill in
            var entry: [String: JSONValue] = ["frames": .array([.number(Double(fill.frames.lowerBound)), .number(Double(fill.frames.upperBound))]),
                                              "level": .string(fill.level.rawValue), "gain_db": .array(fill.gainDecibels.map { .number($0) }),
                                              "limited": .bool(fill.limited), "limiter_db": .number(fill.limiterDecibels)]
            entry["context_db"] = fill.contextDecibels.map { .array($0.map { .number($0) }) }
            return .object(entry)
        })]
    }
}
