import Editing
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

extension EditedFile {
    /// The record's details of an edit written into this file: the output's `format` and, per
    /// fill, its `frames`, `level` rule, `context_db` (dBFS per channel), `gain_db` and whether a
    /// gain was `limited`.
    public func recordDetails(output: URL?, fills: [FillReport]) -> [String: JSONValue] {
        let format: [String: JSONValue] = ["sample_rate": .number(outputRate), "channels": .number(Double(outputChannels)),
                                           "sample_format": .string(output.flatMap(outputEncoding)?.rawValue ?? "vorbis")]
        return ["format": .object(format), "fills": .array(fills.map { fill in
            var entry: [String: JSONValue] = ["frames": .array([.number(Double(fill.frames.lowerBound)), .number(Double(fill.frames.upperBound))]),
                                              "level": .string(fill.level.rawValue), "gain_db": .array(fill.gainDecibels.map { .number($0) }),
                                              "limited": .bool(fill.limited)]
            entry["context_db"] = fill.contextDecibels.map { .array($0.map { .number($0) }) }
            return .object(entry)
        })]
    }
}
