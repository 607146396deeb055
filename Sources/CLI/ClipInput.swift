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

    @OptionGroup var format: FileFormatOptions

    /// Reads `path` for `pipeline`.
    func read(_ path: String, pipeline: AuffusionPipeline) throws -> EditClip {
        try EditClip(try AudioFile.read(URL(fileURLWithPath: path)), pipeline: pipeline)
    }
}

/// The format an edited file is written in: the input's unless overridden (docs/editing.md,
/// "The file's own format").
struct FileFormatOptions: ParsableArguments {
    @Option(name: .customLong("sample-rate"), help: "Write the output at this rate, Hz (default: the input's).")
    var sampleRate: Int?

    @Option(help: "Write the output with this many channels: 1, or the input's count from a mono or a same-size input (default: the input's).")
    var channels: Int?

    @Option(name: .customLong("sample-format"),
            help: "Write samples as pcm16, pcm24, pcm32, float32 or float64 (default: the input's; FLAC holds pcm16 and pcm24).")
    var sampleFormat: SampleEncoding?

    func validate() throws {
        if let sampleRate, !(1_000...768_000).contains(sampleRate) {
            throw ValidationError("--sample-rate must be between 1000 and 768000 Hz, got \(sampleRate)")
        }
        if let channels, !(1...64).contains(channels) { throw ValidationError("--channels must be between 1 and 64, got \(channels)") }
    }

    /// The input at `url` as the output of an edit, with these overrides.
    func editedFile(_ url: URL) throws -> EditedFile {
        var file = try EditedFile(source: url)
        file.sampleRate = sampleRate.map(Double.init)
        file.channelCount = channels
        file.encoding = sampleFormat
        return file
    }
}

extension SampleEncoding: ExpressibleByArgument {}

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

/// Runs `plan` on `clip` (or from noise) as ``EditRun`` does, reporting progress, and writes the
/// result (into the input's own format when the edit kept it); returns it with its record, for
/// the caller to complete and emit.
func runPlan(_ plan: EditPlan, command: String, clip: EditClip?, input: URL?, pipeline: AuffusionPipeline,
             noise: inout NoiseSource, outputs: RunOutputs, sampling: SamplingOptions?, clipOptions: ClipInputOptions,
             report: ReportOptions, details: [String: JSONValue]) throws -> (result: EditResult, record: RunRecord) {
    let edited = try input.map { try clipOptions.format.editedFile($0) }
    try edited?.validate()
    var run = EditRun(plan, clip: clip)
    run.samplePosterior = clipOptions.samplePosterior
    run.posteriorNoise = sampling?.noise == nil ? nil : NoiseSource(seed: sampling?.seedValue ?? 0)
    run.renderSource = outputs.sourceAudio != nil
    let progress = report.progress()
    let (result, placement) = try run(pipeline: pipeline, noise: &noise, progress: progress.passes())
    progress.finish()
    var record = RunRecord(command: command, request: plan.passes.last?.request, sampling: sampling, result: result.output,
                           outputs: RunRecord.Files(), report: report, input: input)
    record.details = details.merging(placement) { $1 }
    if let edited, !result.fills.isEmpty {
        let written = try outputs.write(result, into: edited, warn: report.warn)
        (record.outputs, record.sampleRate) = (written.files, edited.outputRate)
        record.details?.merge(edited.recordDetails(output: outputs.audio, fills: written.fills)) { $1 }
    } else {
        record.outputs = try outputs.write(result.output, source: result.source, warn: report.warn)
    }
    record.sourcePrompt = plan.passes.last?.attention?.sourcePrompt
    return (result, record)
}
