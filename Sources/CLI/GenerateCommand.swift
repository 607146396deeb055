import ArgumentParser
import AudioDSP
import Compute
import Foundation
import Pipeline
import Schedulers

/// The samplers the CLI offers, mapped onto the library's.
enum SchedulerOption: String, ExpressibleByArgument, CaseIterable {
    case pndm, ddim, dpmpp, dpmppKarras = "dpmpp-karras", euler

    var kind: SchedulerKind {
        switch self {
        case .pndm: .pndm
        case .ddim: .ddim
        case .dpmpp: .dpmSolverMultistep
        case .dpmppKarras: .dpmSolverMultistepKarras
        case .euler: .euler
        }
    }
}

/// The model folder option every model command takes.
struct ModelOptions: ParsableArguments {
    @Option(name: .customLong("model"), help: ArgumentHelp(
        "A model folder, e.g. a downloaded auffusion-full (default: $AUFFUSION_MODEL, else the embedded mini model).",
        valueName: "dir"))
    var folder: String?

    /// The folder given, or the default one.
    func url() throws -> URL {
        try folder.map { URL(fileURLWithPath: $0) } ?? EmbeddedModel.defaultFolder()
    }

    func load(quiet: Bool) throws -> AuffusionPipeline {
        let start = Date()
        let url = try url()
        let pipeline = try AuffusionPipeline(folder: url)
        if !quiet {
            FileHandle.standardError.write(Data(String(format: "loaded %@ in %.1f s\n", url.path, Date().timeIntervalSince(start)).utf8))
        }
        return pipeline
    }
}

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
    var prompt: String = ""

    @OptionGroup var model: ModelOptions

    @OptionGroup var sampling: SamplingOptions

    @Option(name: .shortAndLong, help: "Output audio file (with --batch: the output folder).")
    var output: String

    @Option(help: "Generate every prompt of a JSON Lines file, loading the models once.")
    var batch: String?

    @Option(help: "With --batch: take only lines i with i mod N = K (0-based K/N), for job arrays.")
    var shard: String?

    @Option(help: "What to steer away from.")
    var negative: String?

    @Option(name: .customLong("guidance-rescale"), help: "Guidance rescale φ in [0, 1].")
    var guidanceRescale: Float = 0

    @Option(help: "Initial latents as .npy (shape 1×4×h×w) instead of seeded noise.")
    var noise: String?

    @Option(help: "Length in seconds (default: the model's canvas, at most 10 s).")
    var duration: Double?

    @Flag(help: "Generate without a prompt (zero conditioning, no guidance).")
    var unconditional = false

    @Option(help: "Also write the spectrogram picture (PNG).")
    var spectrogram: String?

    @Option(name: .customLong("save-mel"), help: "Also write the log-mel that went into the vocoder (.npy, 256 × frames).")
    var saveMel: String?

    @Option(name: .customLong("save-latents"), help: "Also write the final latents (.npy).")
    var saveLatents: String?

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        guard unconditional || batch != nil || !prompt.isEmpty else { throw ValidationError("give a prompt, or --unconditional") }
        if batch != nil && !prompt.isEmpty { throw ValidationError("give either a prompt or --batch") }
        if shard != nil && batch == nil { throw ValidationError("--shard needs --batch") }
        if noise != nil && sampling.seed != 0 { throw ValidationError("use either --seed or --noise") }
    }

    func run() throws {
        try reportingErrors {
            if let batch {
                try runBatch(batch)
                return
            }
            let outputURL = URL(fileURLWithPath: output)
            guard AudioContainer(path: outputURL) != nil else { throw AudioFileError.unsupportedExtension(path: output) }
            let inputs = [noise].compactMap { $0.map(URL.init(fileURLWithPath:)) }
            for path in [output, spectrogram, saveMel, saveLatents].compactMap({ $0 }) {
                try AtomicFile.ensure(URL(fileURLWithPath: path), isNotOneOf: inputs)
            }
            var source = try noise.map { try NoiseSource(tensors: [try NumPyFile.read(URL(fileURLWithPath: $0))]) } ?? NoiseSource(seed: sampling.seed)
            let pipeline = try model.load(quiet: sampling.silent)
            try produce(request(prompt: prompt), noise: &source, to: outputURL, pipeline: pipeline, inputs: inputs,
                        extras: (spectrogram, saveMel, saveLatents))
        }
    }

    /// The request the command-line options describe, for `prompt`.
    private func request(prompt: String) -> GenerationRequest {
        var request = GenerationRequest(prompt: prompt)
        request.negativePrompt = negative
        request.unconditional = unconditional
        request.stepCount = sampling.steps
        request.guidanceScale = sampling.guidance
        request.guidanceRescale = guidanceRescale
        request.duration = duration
        request.scheduler = sampling.scheduler?.kind
        return request
    }

    /// Every line of the batch file in this shard, one output each, with the models loaded once.
    private func runBatch(_ path: String) throws {
        let shard = try shard.map(Shard.init) ?? Shard("0/1")
        let folder = URL(fileURLWithPath: output)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let items = try BatchFile.read(path).filter { shard.contains($0.line) }
        let pipeline = try model.load(quiet: sampling.silent)
        for (position, (line, item)) in items.enumerated() {
            var request = request(prompt: item.prompt)
            request.negativePrompt = item.negative ?? negative
            request.stepCount = item.steps ?? sampling.steps
            request.guidanceScale = item.guidance ?? sampling.guidance
            request.duration = item.duration ?? duration
            let target = folder.appendingPathComponent(item.output ?? String(format: "%06d.wav", line))
            if !sampling.silent {
                FileHandle.standardError.write(Data("[\(position + 1)/\(items.count)] \(item.prompt)\n".utf8))
            }
            var source = NoiseSource(seed: item.seed ?? sampling.seed)
            try produce(request, noise: &source, to: target, pipeline: pipeline, inputs: [URL(fileURLWithPath: path)],
                        extras: (nil, nil, nil))
        }
    }

    /// Generates one request and writes its outputs (`extras`: spectrogram, mel, latents paths).
    private func produce(_ request: GenerationRequest, noise source: inout NoiseSource, to outputURL: URL,
                         pipeline: AuffusionPipeline, inputs: [URL],
                         extras: (spectrogram: String?, mel: String?, latents: String?)) throws {
        guard AudioContainer(path: outputURL) != nil else { throw AudioFileError.unsupportedExtension(path: outputURL.path) }
        let reporter = ProgressReporter(label: "step", quiet: sampling.silent)
        let result = try pipeline.generate(request, noise: &source) { progress in
            reporter.step(progress.step, of: progress.total)
            return true
        }
        reporter.finish()
        if result.droppedTokenCount > 0 {
            FileHandle.standardError.write(Data("warning: the prompt is longer than 75 tokens; the last \(result.droppedTokenCount) were dropped\n".utf8))
        }
        try AudioFile.write(result.audio, to: outputURL, protecting: inputs)
        if let path = extras.spectrogram {
            try SpectrogramPicture.render(result.image, timeAxis: true).writePNG(to: URL(fileURLWithPath: path))
        }
        if let path = extras.mel { try NumPyFile.write(result.logMel, to: URL(fileURLWithPath: path)) }
        if let path = extras.latents { try NumPyFile.write(result.latents, to: URL(fileURLWithPath: path)) }
        if sampling.json {
            let summary: [String: Any] = [
                "output": outputURL.path, "prompt": request.prompt, "seconds": result.audio.duration,
                "sample_rate": result.audio.sampleRate, "steps": request.stepCount, "dropped_tokens": result.droppedTokenCount,
            ]
            print(String(decoding: try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys]), as: UTF8.self))
        }
    }
}
