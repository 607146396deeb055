import ArgumentParser
import Compute
import Editing
import Foundation
import Pipeline
import Schedulers

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

    func load(_ report: ReportOptions) throws -> AuffusionPipeline {
        let url = try url()
        let pipeline = try AuffusionPipeline(folder: url)
        report.say(String(format: "loaded %@ in %.1f s", url.path, report.elapsed))
        return pipeline
    }
}

/// The sampling options every denoising command shares, and the one place that turns them into
/// a ``GenerationRequest`` and a ``NoiseSource``. Absent values take the request's defaults
/// (Auffusion's: 100 steps, guidance 7.5, the model's scheduler).
struct SamplingOptions: ParsableArguments {
    @Option(help: "Denoising steps (default \(GenerationRequest(prompt: "").stepCount); an edit of a clip runs the part of the schedule its strength keeps).")
    var steps: Int?

    @Option(help: "Classifier-free guidance scale (default \(GenerationRequest(prompt: "").guidanceScale); 1 turns guidance off).")
    var guidance: Float?

    @Option(name: .customLong("guidance-rescale"), help: "Guidance rescale φ in [0, 1] (default 0).")
    var guidanceRescale: Float?

    @Option(help: "Sampler: \(SchedulerKind.names) (default: the model's).", transform: { name in
        guard let kind = SchedulerKind(name: name) else {
            throw ValidationError("--scheduler must be one of \(SchedulerKind.names), got \(name)")
        }
        return kind
    })
    var scheduler: SchedulerKind?

    @Option(help: "What to steer away from.")
    var negative: String?

    @Option(name: .customLong("window-join"), help: "How the windows of audio longer than the model's canvas are joined at each step: crossfade (the default), average (MultiDiffusion) or swap (SaFa); docs/editing.md compares them.")
    var windowJoin: LatentWindows.Join?

    @Option(help: "Seed of the noise (torch.randn-compatible; generate and batches draw one when it is absent and report it, other commands use 0).")
    var seed: UInt64?

    @Option(help: ArgumentHelp("The first Gaussian tensor the run draws, as .npy, instead of seeded noise: the initial latents of a run from noise, or the tensor added to a clip's latents.", valueName: "file.npy"))
    var noise: String?

    func validate() throws {
        if noise != nil && seed != nil { throw ValidationError("use either --seed or --noise") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if let guidance, !(guidance.isFinite && guidance >= 0) { throw ValidationError("--guidance must be a non-negative number, got \(guidance)") }
        if let guidanceRescale, !(0...1).contains(guidanceRescale) {
            throw ValidationError("--guidance-rescale must be in [0, 1], got \(guidanceRescale)")
        }
    }

    /// The request for `prompt` with these options.
    func request(prompt: String) -> GenerationRequest {
        var request = GenerationRequest(prompt: prompt)
        request.negativePrompt = negative
        request.stepCount = steps ?? request.stepCount
        request.guidanceScale = guidance ?? request.guidanceScale
        request.guidanceRescale = guidanceRescale ?? request.guidanceRescale
        request.scheduler = scheduler
        request.windowJoin = windowJoin ?? request.windowJoin
        return request
    }

    /// The seed the run's noise comes from.
    var seedValue: UInt64 { seed ?? 0 }

    /// The noise source: the `--noise` tensor first (the library refuses NaN and infinity), then
    /// seeded draws.
    func noiseSource() throws -> NoiseSource {
        guard let noise else { return NoiseSource(seed: seedValue) }
        do {
            return try NoiseSource(tensors: [try NumPyFile.read(URL(fileURLWithPath: noise))], seed: seedValue)
        } catch let error as PipelineError {
            throw CLIError("\(noise): \(error)")
        }
    }

    /// The input files these options name (never to be overwritten).
    var inputs: [URL] { [noise].compactMap { $0.map(URL.init(fileURLWithPath:)) } }
}

/// How a command reports: progress and notes on stderr unless quiet, one JSON record on stdout.
struct ReportOptions: ParsableArguments {
    @Flag(help: "Print one JSON record of the run on stdout (docs/cli.md) and no progress.")
    var json = false

    @Flag(help: "Print no progress.")
    var quiet = false

    /// When the command started, for the record's timings.
    let started = Date()

    enum CodingKeys: CodingKey { case json, quiet }

    /// Whether progress and notes are suppressed.
    var silent: Bool { quiet || json }

    /// Seconds since the command started.
    var elapsed: Double { Date().timeIntervalSince(started) }

    /// A note on stderr unless silent.
    func say(_ line: String) {
        guard !silent else { return }
        FileHandle.standardError.write(Data("\(line)\n".utf8))
    }

    /// A warning on stderr, even when quiet (it is about the result).
    func warn(_ line: String) {
        FileHandle.standardError.write(Data("warning: \(line)\n".utf8))
    }

    func progress() -> ProgressReporter { ProgressReporter(quiet: silent) }
}

/// `--duration` of a run from noise.
struct DurationOption: ParsableArguments {
    @Option(help: "Length in seconds or m:ss.s (default: the model's canvas, at most 10 s; longer, up to 600 s, runs in windows of the canvas).", transform: seconds)
    var duration: Double?

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive, got \(duration)") }
    }
}

/// How an edit whose passes are all masked joins its result to the clip.
struct SpliceOptions: ParsableArguments {
    @Option(help: "Crossfade length at each mask edge, in milliseconds.")
    var crossfade = 20.0

    @Flag(help: "Return the decoded result, as the reference does, instead of keeping the clip outside the masks.")
    var raw = false

    @Flag(name: .customLong("raw-level"),
          help: "Give a fill the model's level (its peak normalisation undone) instead of the level of the audio around the mask.")
    var rawLevel = false

    func validate() throws {
        guard crossfade >= 0, crossfade.isFinite else { throw ValidationError("--crossfade must be non-negative, got \(crossfade)") }
    }

    /// `plan` with these settings.
    func applied(to plan: EditPlan) -> EditPlan {
        var plan = plan
        plan.crossfadeSeconds = crossfade / 1000
        plan.raw = raw
        plan.fillLevel = rawLevel ? .raw : .context
        return plan
    }
}

extension LatentWindows.Join: ExpressibleByArgument {}

/// Seconds as `12.5` or `m:ss.s` (`1:02.5`).
enum TimeText {
    static func seconds(_ text: String) -> Double? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        switch parts.count {
        case 1: return Double(text).flatMap { $0.isFinite ? $0 : nil }
        case 2:
            guard let minutes = Int(parts[0]), minutes >= 0, let seconds = Double(parts[1]), (0..<60).contains(seconds) else { return nil }
            return Double(minutes) * 60 + seconds
        default: return nil
        }
    }
}

/// A range of numbers, `LO-HI` or `START+LENGTH`; with times, each end is seconds or `m:ss.s`.
struct NumberRange {
    let range: Range<Double>

    /// Parses `text` for `option` (`--mask`, `--band`), reading each end with `number`.
    static func parse(_ text: String, option: String, number: (String) -> Double? = { Double($0) }) throws -> NumberRange {
        let usage = "\(option) takes START-END or START+LENGTH"
        let parts: (String, String, Bool)
        if let plus = text.firstIndex(of: "+") {
            parts = (String(text[..<plus]), String(text[text.index(after: plus)...]), true)
        } else if let dash = text.dropFirst().firstIndex(of: "-") {
            parts = (String(text[..<dash]), String(text[text.index(after: dash)...]), false)
        } else {
            throw ValidationError("\(usage), got \(text)")
        }
        guard let low = number(parts.0), let value = number(parts.1) else { throw ValidationError("\(usage), got \(text)") }
        let high = parts.2 ? low + value : value
        guard low >= 0 else { throw ValidationError("\(option) \(text) starts below 0") }
        guard low < high else { throw ValidationError("\(option) \(text) is empty: the end must come after the start") }
        return NumberRange(range: low..<high)
    }
}
