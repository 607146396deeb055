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

    var overrides: OutputFormat { OutputFormat(sampleRate: sampleRate, channelCount: channels, encoding: sampleFormat) }

    func validate() throws { try usage(overrides.validate) }

    /// The input at `url` as the output of an edit, with these overrides.
    func editedFile(_ url: URL) throws -> EditedFile {
        var file = try EditedFile(source: url)
        file.overrides = overrides
        return file
    }
}

extension SampleEncoding: ExpressibleByArgument {}

/// The options every edit of a clip shares, and the one way such a command runs.
struct EditCommandOptions: ParsableArguments {
    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var clip: ClipInputOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard output.output != nil else { throw ValidationError("give -o OUT for the edited audio") }
    }

    /// Runs `command` on the clip at `input` (from noise when `nil`): checks the outputs (none may
    /// be `input`, a sampling input or one of `inputs`), loads the model, runs the edit that
    /// `plan` builds for it and prints the record.
    func run(_ command: String, input: String?, inputs: [URL] = [], sourceAudio: String? = nil, maps: String? = nil,
             plan: (AuffusionPipeline) throws -> PlannedEdit) throws {
        let inputURL = input.map { URL(fileURLWithPath: $0) }
        let outputs = try output.outputs(sourceAudio: sourceAudio, maps: maps, inputs: [inputURL].compactMap { $0 } + sampling.inputs + inputs)
        var noise = try sampling.noiseSource()
        let pipeline = try model.load(report)
        let edit = try plan(pipeline)
        do {
            try clip.run(edit.plan, command: command, clip: edit.clip, input: inputURL, pipeline: pipeline, noise: &noise, outputs: outputs,
                         seed: sampling.seedValue, noiseFromFile: sampling.noise != nil, report: report, details: edit.details,
                         maps: edit.mapsResolution).emit(report)
        } catch EditPlanError.passFailed(_, let cause) {
            throw cause.error   // the command ran one pass the user never named: its error in the flags' terms
        }
    }
}

/// An edit ready to run: its plan, the clip it edits (none from noise), its record's details and
/// the level of the attention maps it writes (none: no maps).
struct PlannedEdit {
    var plan: EditPlan
    var clip: EditClip?
    var details: [String: JSONValue]
    var mapsResolution: AttentionResolution?
}

extension ClipInputOptions {
    /// Runs `plan` on `clip` (or from noise) through ``EditRun``, with progress, and writes the
    /// result (into the input's own format when the edit kept it; the edited prompt's attention
    /// maps at `maps`); returns its record. When the run's noise comes from a file, a sampled
    /// posterior draws its own noise from `seed`.
    func run(_ plan: EditPlan, command: String, clip: EditClip?, input: URL?, pipeline: AuffusionPipeline, noise: inout NoiseSource,
             outputs: RunOutputs, seed: UInt64, noiseFromFile: Bool, report: ReportOptions, details: [String: JSONValue],
             maps: AttentionResolution? = nil) throws -> RunRecord {
        var run = EditRun(plan, clip: clip)
        run.mapsResolution = maps
        run.file = try input.map { try format.editedFile($0) }
        run.samplePosterior = samplePosterior
        run.posteriorNoise = noiseFromFile ? NoiseSource(seed: seed) : nil
        let progress = report.progress()
        let asked = samplePosterior ? details.merging(["sample_posterior": .bool(true)]) { $1 } : details
        let (_, record) = try run.run(command: command, seed: seed, details: asked, pipeline: pipeline, noise: &noise,
                                      outputs: outputs, started: report.started, progress: progress.passes(), warn: progress.warn(report))
        progress.finish()
        return record
    }
}
