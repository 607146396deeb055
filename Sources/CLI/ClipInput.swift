import ArgumentParser
import AudioDSP
import Editing
import Foundation
import Pipeline
import Toolkit

/// The input clip of an edit: read and prepared at the model's rate, at any length.
struct ClipInputOptions: ParsableArguments {
    @Flag(name: .customLong("sample-posterior"), help: "Sample the clip's VAE posterior instead of taking its mean.")
    var samplePosterior = false

    /// Reads `path` for `pipeline`.
    func read(_ path: String, pipeline: AuffusionPipeline) throws -> EditClip {
        try EditClip(try AudioFile.read(URL(fileURLWithPath: path)), pipeline: pipeline)
    }
}

/// The outputs an edit of a clip writes beside its audio.
struct EditOutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Output audio file (.wav, .flac, .ogg, .aiff); never the input.")
    var output: String

    @Option(help: "Also write the spectrogram picture of the result (PNG).")
    var spectrogram: String?

    @Option(name: .customLong("save-mel"), help: "Also write the log-mel that went into the vocoder (.npy).")
    var saveMel: String?

    @OptionGroup var peaks: PeakOptions

    func outputs(inputs: [URL], sourceAudio: String? = nil, maps: String? = nil) throws -> RunOutputs {
        try RunOutputs(audio: output, sourceAudio: sourceAudio, spectrogram: spectrogram, mel: saveMel, maps: maps, inputs: inputs,
                       peaks: peaks)
    }
}

/// Runs `plan` on `clip` (or from noise), reporting progress, and writes the result; returns it
/// with its record, for the caller to complete and emit.
/// A clip is edited where ``EditSpans`` places the plan; the record's details say where
/// (`spans`, seconds) and how many windows of the canvas ran (`windows`).
func runPlan(_ plan: EditPlan, command: String, clip: EditClip?, input: URL?, pipeline: AuffusionPipeline,
             noise: inout NoiseSource, outputs: RunOutputs, sampling: SamplingOptions?, clipOptions: ClipInputOptions,
             report: ReportOptions, details: [String: JSONValue]) throws -> (result: EditResult, record: RunRecord) {
    let progress = report.progress()
    var details = details
    let result: EditResult
    if let clip {
        let long = try plan.run(on: clip, pipeline: pipeline, noise: &noise, samplePosterior: clipOptions.samplePosterior,
                                posteriorNoise: sampling?.noise == nil ? nil : NoiseSource(seed: sampling?.seedValue ?? 0),
                                renderSource: outputs.sourceAudio != nil, progress: progress.passes())
        result = long.edit
        let fps = pipeline.melParameters.framesPerSecond
        details["spans"] = .array(long.spans.spans.map { span in
            .array([.number(Double(span.frames.lowerBound) / fps), .number(min(Double(span.frames.upperBound) / fps, clip.duration))])
        })
        details["windows"] = .number(Double(long.spans.windowCount))
    } else {
        result = try plan.run(clip: nil, pipeline: pipeline, noise: &noise, renderSource: outputs.sourceAudio != nil,
                              progress: progress.passes())
    }
    progress.finish()
    let files = try outputs.write(result.output, source: result.source, warn: report.warn)
    var record = RunRecord(command: command, request: plan.passes.last?.request, sampling: sampling, result: result.output,
                           outputs: files, report: report, input: input)
    record.sourcePrompt = plan.passes.last?.attention?.sourcePrompt
    record.details = details
    return (result, record)
}
