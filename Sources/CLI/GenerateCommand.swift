import ArgumentParser
import Editing
import Foundation
import Pipeline
import Toolkit

/// `auffusion generate`: text to audio.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate audio from a text prompt.",
        discussion: """
        The format of the output follows its extension (.wav, .flac, .ogg, .aiff). With --batch \
        FILE.jsonl, each line is {"prompt": …, "negative"?, "seed"?, "steps"?, "guidance"?, \
        "duration"?, "output"?} and -o names the output folder; the models load once.
        """
    )

    @Argument(help: "What the sound should be, e.g. \"a dog barking in the rain\".")
    var prompt: String?

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup var peaks: PeakOptions

    @Option(name: .shortAndLong, help: "Output audio file (with --batch: the output folder).")
    var output: String

    @Option(help: "Generate every prompt of a JSON Lines file, loading the models once.")
    var batch: String?

    @Option(help: "With --batch: take only lines i with i mod N = K (0-based K/N), for job arrays.", transform: { text in
        do { return try Shard(text) } catch { throw ValidationError("--shard: \(error)") }
    })
    var shard: Shard?

    @OptionGroup var length: DurationOption

    @Flag(help: "Generate without a prompt (zero conditioning, no guidance).")
    var unconditional = false

    @Option(help: "Also write the spectrogram picture (PNG).")
    var spectrogram: String?

    @Option(name: .customLong("save-mel"), help: "Also write the log-mel that went into the vocoder (.npy, mels × frames).")
    var saveMel: String?

    @Option(name: .customLong("save-latents"), help: "Also write the final latents (.npy).")
    var saveLatents: String?

    func validate() throws {
        if batch == nil && !unconditional && (prompt ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("give a prompt, or --unconditional")
        }
        if batch != nil && prompt != nil { throw ValidationError("give either a prompt or --batch") }
        if shard != nil && batch == nil { throw ValidationError("--shard needs --batch") }
    }

    func run() throws {
        if let batch { return try runBatch(URL(fileURLWithPath: batch)) }
        let outputs = try RunOutputs(audio: output, spectrogram: spectrogram, mel: saveMel, latents: saveLatents,
                                     inputs: sampling.inputs, peaks: peaks)
        var noise = try sampling.noiseSource()
        let pipeline = try model.load(report)
        try produce(request(prompt: prompt ?? ""), noise: &noise, outputs: outputs, pipeline: pipeline)
    }

    private func request(prompt: String) -> GenerationRequest {
        var request = sampling.request(prompt: prompt)
        request.unconditional = unconditional
        request.duration = length.duration
        return request
    }

    /// Every line of the batch file in this shard, one output each, with the models loaded once.
    private func runBatch(_ file: URL) throws {
        let shard = shard ?? .all
        let folder = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let items = try BatchFile.read(file).filter { shard.contains($0.line) }
        let pipeline = try model.load(report)
        for (position, (line, item)) in items.enumerated() {
            report.say("[\(position + 1)/\(items.count)] \(item.prompt)")
            let target = folder.appendingPathComponent(item.output ?? String(format: "%06d.wav", line))
            var noise = NoiseSource(seed: item.seed ?? sampling.seedValue)
            try produce(item.request(defaults: request(prompt: item.prompt)), noise: &noise,
                        outputs: try RunOutputs(audio: target.path, inputs: [file], peaks: peaks), pipeline: pipeline)
        }
    }

    /// Generates one request and writes its outputs.
    private func produce(_ request: GenerationRequest, noise: inout NoiseSource, outputs: RunOutputs,
                         pipeline: AuffusionPipeline) throws {
        let progress = report.progress()
        let result = try pipeline.generate(request, noise: &noise, progress: progress.steps())
        progress.finish()
        let files = try outputs.write(result, warn: report.warn)
        try RunRecord(command: "generate", request: request, sampling: sampling, result: result, outputs: files, report: report)
            .emit(report)
    }
}

/// `--duration` and other times: seconds or `m:ss.s`.
func seconds(_ text: String) throws -> Double {
    guard let value = TimeText.seconds(text) else { throw ValidationError("expected seconds or m:ss.s, got \(text)") }
    return value
}
