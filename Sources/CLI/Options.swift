import ArgumentParser
import Compute
import Editing
import Foundation
import Pipeline
import Schedulers
import Toolkit

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

    /// The pipeline of the model folder; a one-shot run keeps one network in memory at a time
    /// (its peak is the U-Net's), a batch or the server keeps them all (``Residency``).
    func load(_ report: ReportOptions, residency: Residency = .oneAtATime) throws -> AuffusionPipeline {
        let url = try url()
        let pipeline = try AuffusionPipeline(folder: url, residency: residency)
        report.say(String(format: "loaded %@ in %.1f s", url.path, report.elapsed))
        return pipeline
    }
}

/// The sampling options every denoising command shares, and the one place that turns them into
/// a ``GenerationRequest`` and a ``NoiseSource``. Absent values take the request's defaults
/// (Auffusion's: 100 steps, guidance 7.5, the model's scheduler).
struct SamplingOptions: ParsableArguments {
    @Option(help: "Denoising steps (default \(GenerationRequest(prompt: "").stepCount); an edit of a clip runs the part of the schedule its strength keeps; from an inversion, the inversion's schedule: default 50 for ddim, 200 for ddpm; a saved one's own with --inversion).")
    var steps: Int?

    @Option(help: "Classifier-free guidance scale (default \(GenerationRequest(prompt: "").guidanceScale); from an inversion, its method's: 7.5 for ddim, 12 for ddpm; 1 turns guidance off).")
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

    @Flag(help: "The fast preset (docs/compute.md): --guidance-until \(SpeedOptions.fast.guidedFraction) --cache-interval \(SpeedOptions.fast.cacheInterval), and --products bfloat16 where this CPU runs it faster than float32 (on this CPU it takes \(SpeedOptions.fast.products)); the flags below override its parts. Not with swap, refine, reweight or attention (feature caching).")
    var fast = false

    @Option(name: .customLong("guidance-until"), help: ArgumentHelp("Adaptive guidance: classifier-free guidance on the first F of the steps only, the conditional prediction alone after (0…1; default 1, every step).", valueName: "F"))
    var guidedFraction: Double?

    @Option(name: .customLong("cache-interval"), help: ArgumentHelp("DeepCache: a full U-Net evaluation every N steps, its shallow branch on the cached deep features in between (default 1, every step full). Not with swap, refine, reweight or attention.", valueName: "N"))
    var cacheInterval: Int?

    @Option(name: .customLong("cache-branch"), help: ArgumentHelp("DeepCache's shallow branch: 0 (the shallowest, fastest) up to the first down block's layers − 1 (default 0).", valueName: "B"))
    var cacheBranch: Int?

    @Option(help: ArgumentHelp("The matrix products of the U-Net and the VAE decoder: float32 (the default, exact) or bfloat16 (operands rounded to bfloat16, sums in float32, where the CPU has AVX-512 BF16; float32 elsewhere).", valueName: "P"))
    var products: ProductPrecision?

    func validate() throws {
        if noise != nil && seed != nil { throw ValidationError("use either --seed or --noise") }
        try usage(request(prompt: "").validateSettings)
    }

    /// The approximations asked for: the `--fast` preset or none, with the flags given over it.
    /// A later fast sampler (fewer steps) belongs in the preset's request, beside these.
    var speed: SpeedOptions {
        var speed = fast ? SpeedOptions.fast : .exact
        speed.guidedFraction = guidedFraction ?? speed.guidedFraction
        speed.cacheInterval = cacheInterval ?? speed.cacheInterval
        speed.cacheBranch = cacheBranch ?? speed.cacheBranch
        speed.products = products ?? speed.products
        return speed
    }

    /// Refuses feature caching for a command whose run has an attention controller (`what`).
    func refuseFeatureCaching(with what: String) throws {
        guard speed.cachesFeatures else { return }
        throw ValidationError("\(fast ? "--fast (its --cache-interval \(speed.cacheInterval))" : "--cache-interval above 1") does not go with "
            + "\(what): a cached step skips the deep attention layers, which could be neither edited nor observed; "
            + "use --guidance-until alone, or --cache-interval 1")
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
        request.speed = speed
        return request
    }

    /// The seed the run's noise comes from.
    var seedValue: UInt64 { seed ?? 0 }

    /// The seed a run from noise records: none when its noise comes from `--noise`.
    var recordedSeed: UInt64? { noise == nil ? seedValue : nil }

    /// The noise source: the `--noise` tensor first (the library refuses NaN and infinity), then
    /// seeded draws.
    func noiseSource() throws -> NoiseSource {
        try noise.map { try NoiseSource(file: URL(fileURLWithPath: $0), seed: seedValue) } ?? NoiseSource(seed: seedValue)
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
        Console.error("\(line)\n")
    }

    /// A warning on stderr, even when quiet (it is about the result).
    func warn(_ line: String) {
        Console.error("warning: \(ErrorLine.oneLine(line))\n")
    }

    func progress() -> ProgressReporter { ProgressReporter(quiet: silent) }

    /// Runs `body` with progress on stderr, then emits the record it returns.
    func emit(_ body: (ProgressReporter) throws -> RunRecord) throws {
        let progress = progress()
        let record = try body(progress)
        progress.finish()
        try record.emit(self)
    }
}

/// `--duration` of a run from noise.
struct DurationOption: ParsableArguments {
    @Option(help: "Length in seconds or m:ss.s (default: the model's canvas, at most 10 s; longer, up to 600 s, runs in windows of the canvas, except attention maps, which take one canvas).", transform: seconds)
    var duration: Double?

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive, got \(duration)") }
        var request = GenerationRequest(prompt: "")
        request.duration = duration
        try usage(request.validateSettings)
    }
}

/// How an edit whose passes are all masked joins its result to the clip.
struct SpliceOptions: ParsableArguments {
    @Option(help: "Crossfade length at each mask edge, 0 to 60000 milliseconds (default: 20, or an edit plan's crossfade_ms).")
    var crossfade: Double?

    @Flag(help: "Return the decoded result, as the reference does, instead of keeping the clip outside the masks.")
    var raw = false

    @Flag(name: .customLong("raw-level"),
          help: "Give a fill the model's level (its peak normalisation undone) instead of the level of the audio around the mask.")
    var rawLevel = false

    func validate() throws {
        if let crossfade, !(crossfade >= 0 && crossfade <= FillPlacement.longestLength * 1000) {
            throw ValidationError("--crossfade must be between 0 and \(Int(FillPlacement.longestLength * 1000)) ms, got \(crossfade)")
        }
    }

    /// The flags given; a flag left out keeps the plan's (or its document's) choice.
    var choices: FinishingChoices {
        FinishingChoices(crossfadeSeconds: crossfade.map { $0 / 1000 }, raw: raw ? true : nil, fillLevel: rawLevel ? .raw : nil)
    }
}

extension LatentWindows.Join: ExpressibleByArgument {}
extension ProductPrecision: ExpressibleByArgument {}

/// `--duration` and other times: seconds or `m:ss.s` (``Seconds``).
func seconds(_ text: String) throws -> Double {
    guard let time = Seconds(parsing: text) else { throw ValidationError("expected seconds or m:ss.s, got \(text)") }
    return time.value
}

extension NumberRange {
    /// `text` given with `option` (`--mask`, `--band`), its error spelt with the option.
    static func argument(_ text: String, option: String, ends: Ends = .numbers) throws -> NumberRange {
        do {
            return try NumberRange(parsing: text, ends: ends)
        } catch .malformed {
            throw ValidationError("\(option) takes START-END or START+LENGTH, got \(text)")
        } catch {
            throw ValidationError("\(option) \(error)")
        }
    }
}
