import ArgumentParser
import AudioDSP
import Editing
import Foundation
import Pipeline
import Toolkit

/// The input clip of an edit: read, checked, and encoded on the model's canvas.
struct ClipInputOptions: ParsableArguments {
    @Flag(name: .customLong("sample-posterior"), help: "Sample the clip's VAE posterior instead of taking its mean.")
    var samplePosterior = false

    /// Reads `path` and encodes it for `pipeline`, warning when it is longer than the canvas.
    /// A posterior sample draws from `noise` first (after a `--noise` tensor, from the seed).
    func encode(_ path: String, pipeline: AuffusionPipeline, sampling: SamplingOptions, noise: inout NoiseSource,
                report: ReportOptions) throws -> ClipLatents {
        let audio = try AudioFile.read(URL(fileURLWithPath: path))
        var posterior: NoiseSource? = samplePosterior ? (sampling.noise == nil ? noise : NoiseSource(seed: sampling.seedValue)) : nil
        let clip = try ClipLatents(encoding: audio, pipeline: pipeline, posteriorNoise: &posterior)
        if sampling.noise == nil, let posterior { noise = posterior }
        if clip.wasCropped {
            let seconds = Double(clip.canvasFrames) / pipeline.melParameters.framesPerSecond
            report.warn("\(path) is longer than the \(seconds) s canvas; only its first \(seconds) s are edited and written")
        }
        return clip
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
func runPlan(_ plan: EditPlan, command: String, clip: ClipLatents?, input: URL?, pipeline: AuffusionPipeline,
             noise: inout NoiseSource, outputs: RunOutputs, sampling: SamplingOptions?, report: ReportOptions,
             details: [String: JSONValue]) throws -> (result: EditResult, record: RunRecord) {
    let progress = report.progress()
    let result = try plan.run(clip: clip, pipeline: pipeline, noise: &noise, renderSource: outputs.sourceAudio != nil,
                              progress: progress.passes())
    progress.finish()
    let files = try outputs.write(result.output, source: result.source, warn: report.warn)
    var record = RunRecord(command: command, request: plan.passes.last?.request, sampling: sampling, result: result.output,
                           outputs: files, report: report, input: input)
    record.sourcePrompt = plan.passes.last?.attention?.sourcePrompt
    record.details = details
    return (result, record)
}
