import AudioDSP
import Compute
import Foundation
import Models
import Schedulers
import Weights

/// What a generation produced.
public struct GenerationResult: Sendable {
    /// 16 kHz mono audio, trimmed to the requested duration.
    public var audio: AudioBuffer
    /// The log-mel spectrogram `[mels, frames]` that went into the vocoder (whole canvas).
    public var logMel: Tensor
    /// The spectrogram image the VAE decoded (whole canvas).
    public var image: SpectrogramImage
    /// The final latents `[1, 4, h, w]`.
    public var latents: Tensor
    /// The initial latents the run started from.
    public var initialLatents: Tensor
    /// Prompt tokens dropped to fit 77 (the reference would crash or truncate silently).
    public var droppedTokenCount: Int
}

/// Auffusion text-to-audio: a model folder's networks and the one denoising loop.
///
/// Port of Auffusion `auffusion_pipeline.py` `AuffusionPipeline.__call__` (adapter layout) and of
/// diffusers' `StableDiffusionPipeline` as Auffusion's no-adapter notebooks use it: encode the
/// prompt, start from Gaussian latents `[1, 4, canvas/8 … ]`, denoise with guidance, decode the
/// spectrogram image, map it back to the log-mel, vocode, trim to the duration.
///
/// ```swift
/// let pipeline = try AuffusionPipeline(folder: URL(fileURLWithPath: "auffusion-full"))
/// var noise = NoiseSource(seed: 42)
/// let result = try pipeline.generate(GenerationRequest(prompt: "a dog barking"), noise: &noise)
/// // Griffin-Lim's audio may pass full scale: the output stage scales it down first.
/// try AudioFile.write(PeakGuard().apply(to: result.audio).audio, to: URL(fileURLWithPath: "dog.wav"))
/// ```
public struct AuffusionPipeline: Sendable {
    public let directory: ModelDirectory
    public let melParameters: MelParameters
    public let schedulerConfiguration: SchedulerConfiguration
    /// The U-Net's configuration, known without its weights.
    public let unetConfiguration: UNetConfiguration
    /// The VAE's configuration, known without its weights.
    public let vaeConfiguration: AutoencoderConfiguration
    /// The tokenizer of the first text condition (``TextConditioner/tokenizer(for:)``), known
    /// without the text encoder's weights.
    public let tokenizer: CLIPTokenizer
    /// Spectrogram frames of the canvas the model was trained on: the width of the VAE's
    /// `sample_size` when the folder gives it as `[height, width]` (the embedded model: `[64,
    /// 256]`), else Auffusion's 1024 (a single number is Stable Diffusion's square image size,
    /// which says nothing of it).
    public let canvasFrames: Int
    private let networks: ResidentNetworks

    /// Opens the model folder at `folder` and loads its networks as `residency` says: every one
    /// now and for good (the default, and what a server wants), or each when a run needs it, one
    /// at a time (what a one-shot run wants: its peak memory is the U-Net's, not the sum).
    /// - Throws: ``ModelDirectoryError`` for a missing or foreign folder; model and weight errors.
    public init(folder: URL, residency: Residency = .allLoaded) throws {
        directory = try ModelDirectory(folder)
        melParameters = try ModelFolder.configuration(MelParameters.self, in: directory.vocoder)
        try melParameters.validate()
        schedulerConfiguration = try SchedulerConfiguration(
            contentsOf: directory.scheduler.appendingPathComponent("scheduler_config.json"))
        unetConfiguration = try ModelFolder.configuration(UNetConfiguration.self, in: directory.unet)
        vaeConfiguration = try AutoencoderConfiguration(contentsOf: directory.vae.appendingPathComponent("config.json"))
        tokenizer = try TextConditioner.tokenizer(for: directory.text)
        let imageSize = vaeConfiguration.sampleSize
        canvasFrames = imageSize.count == 2 ? imageSize[1] : 1024
        // The canvas must hold whole latent columns that the U-Net can halve at every level, and
        // no more than the longest generation.
        let grid = Self.canvasGrid(vae: vaeConfiguration, unet: unetConfiguration)
        let longest = Int(Self.longestDuration * melParameters.framesPerSecond)
        guard canvasFrames > 0, canvasFrames % grid == 0, canvasFrames <= longest else {
            throw ModelError.unsupportedConfiguration(model: "AutoencoderKL", reason: """
                sample_size gives a canvas of \(canvasFrames) frames; it must be a positive multiple of \(grid) \
                (the VAE's and the U-Net's downsampling) and at most \(longest) frames (\(Int(Self.longestDuration)) s)
                """)
        }
        // The spectrogram's height is the vocoder's mel bands: the VAE must have been made for
        // it (a folder assembled from two models fails here rather than making noise), and the
        // networks must halve it as they halve the canvas.
        let bands = melParameters.melBinCount
        guard imageSize.count != 2 || imageSize[0] == bands, bands % grid == 0 else {
            throw ModelError.unsupportedConfiguration(model: "AutoencoderKL", reason: "the vocoder has \(bands) mel bands, but the "
                + "VAE's sample_size is \(imageSize) and the networks need a multiple of \(grid) rows: the folder's parts were not made for each other")
        }
        networks = try ResidentNetworks(directory: directory, melParameters: melParameters, residency: residency)
    }

    /// How this pipeline keeps its networks in memory.
    public var residency: Residency { networks.residency }

    /// The text encoder(s) and adapter(s), loaded if they are not in memory.
    public var text: TextConditioner { get throws { try networks.text() } }
    /// The U-Net, loaded if it is not in memory.
    public var unet: UNet2DConditionModel { get throws { try networks.unet() } }
    /// The VAE, loaded if it is not in memory.
    public var codec: LatentCodec { get throws { LatentCodec(vae: try networks.vae()) } }
    /// The vocoder, loaded if it is not in memory.
    public var vocoder: Vocoder { get throws { try networks.vocoder() } }
    /// How many of the four networks are in memory now.
    public var residentNetworkCount: Int { networks.residentCount }

    /// Spectrogram frames that a canvas the U-Net sees whole must be a multiple of: the VAE's
    /// downsampling times the U-Net's.
    public var canvasGrid: Int { Self.canvasGrid(vae: vaeConfiguration, unet: unetConfiguration) }

    private static func canvasGrid(vae: AutoencoderConfiguration, unet: UNetConfiguration) -> Int {
        LatentCodec.downsamplingFactor(of: vae) * (1 << (unet.blockOutChannels.count - 1))
    }

    /// Pixels per latent cell along each side (``LatentCodec/downsamplingFactor``).
    public var downsamplingFactor: Int { LatentCodec.downsamplingFactor(of: vaeConfiguration) }

    /// The canvas frames and output seconds of `request`: its own, or the model's canvas and as
    /// much of it as fits in 10 s. A duration longer than the model's canvas gets a canvas as long
    /// as it (rounded up to the VAE's grid), denoised in windows of the model's (``LatentWindows``).
    public func canvas(of request: GenerationRequest) -> (frames: Int, duration: Double) {
        let fps = melParameters.framesPerSecond
        let duration = request.duration ?? min(10, Double(request.canvasFrames ?? canvasFrames) / fps)
        if let frames = request.canvasFrames { return (frames, duration) }
        let grid = max(8, downsamplingFactor)     // requests are checked on multiples of 8 frames
        let needed = Int((duration * fps - 1e-6).rounded(.up))
        return (max(canvasFrames, (needed + grid - 1) / grid * grid), duration)
    }

    /// The longest generation a request may ask for, in seconds: its latents, spectrogram and
    /// audio stay in memory at once (about 60 MB per minute at the released model's size).
    public static let longestDuration = 600.0

    /// The windows of the model's canvas a run of `request` is denoised in (one, unless its
    /// duration is longer than the canvas).
    public func windows(of request: GenerationRequest) -> LatentWindows {
        LatentWindows(spanWidth: canvas(of: request).frames / downsamplingFactor, windowWidth: canvasLatentWidth)
    }

    /// Checks `request` against this model.
    /// - Throws: ``PipelineError/invalidValue(field:reason:)`` naming the field.
    public func validate(_ request: GenerationRequest) throws {
        try request.validateSettings()   // before the canvas is sized from the duration
        let (frames, duration) = canvas(of: request)
        try request.validate(canvasFrames: frames, duration: duration, framesPerSecond: melParameters.framesPerSecond)
        // A canvas narrower than the model's goes to the U-Net whole (a wider one in windows of the model's).
        if frames < canvasFrames, frames % canvasGrid != 0 {
            throw PipelineError.invalidValue(field: "canvas", reason: """
                must be a multiple of \(canvasGrid) frames for this model (the VAE's and the U-Net's downsampling), got \(frames)
                """)
        }
        try validate(request.speed)
    }

    /// Checks `speed` against this model: its values, and a cache branch the U-Net has.
    /// - Throws: ``PipelineError/invalidValue(field:reason:)`` naming the field.
    public func validate(_ speed: SpeedOptions) throws {
        try speed.validate()
        let branches = unetConfiguration.featureCacheBranches
        guard branches.contains(speed.cacheBranch) else {
            throw PipelineError.invalidValue(field: "cache_branch", reason: "must be in \(branches.lowerBound)…\(branches.upperBound - 1) for this model, got \(speed.cacheBranch)")
        }
    }

    /// A fresh scheduler: `kind` on the folder's configuration, or the folder's own.
    public func makeScheduler(_ kind: SchedulerKind?) throws -> any Scheduler {
        if let kind { return try kind.makeScheduler(configuration: schedulerConfiguration) }
        return try SchedulerKind.scheduler(describedBy: schedulerConfiguration)
    }

    /// Latent columns of the model's canvas: the window width of a longer span (``LatentWindows``).
    public var canvasLatentWidth: Int { canvasFrames / downsamplingFactor }

    /// Latent shape of a canvas of `frames` spectrogram frames: `[1, 4, mels/8, frames/8]`.
    public func latentShape(canvasFrames frames: Int) -> [Int] {
        let factor = downsamplingFactor
        return [1, unetConfiguration.inChannels, melParameters.melBinCount / factor, frames / factor]
    }

    /// Generates audio for `request`, drawing the initial latents from `noise`: the noise start,
    /// the request's conditioning, one run of the loop, and the rendering. `progress` hears each
    /// step, `rendering` each window decoded and vocoded; either cancels by returning `false`.
    public func generate(_ request: GenerationRequest, noise: inout NoiseSource,
                         progress: (DenoiseProgress) -> Bool = { _ in true },
                         rendering: (RenderProgress) -> Bool = { _ in true }) throws -> GenerationResult {
        let start = try noiseStart(request, noise: &noise)
        let conditioning = try conditioning([request.prompt], request: request)
        let latents: Tensor
        do {    // the run holds the U-Net: it ends here, before rendering may load the VAE in its place
            var run = try DenoiseRun(pipeline: self, start: start, conditioning: conditioning, noise: noise, join: request.windowJoin,
                                     speed: request.speed)
            latents = try run.finish(progress: progress)
            noise = run.noise
        }
        var result = try render(latents, duration: canvas(of: request).duration, products: request.speed.products, progress: rendering)
        result.initialLatents = start.latents
        result.droppedTokenCount = conditioning.droppedTokenCount
        return result
    }

    /// Decodes latents `[1, 4, h, w]` to the spectrogram, the log-mel and audio of `duration` seconds.
    ///
    /// Latents wider than the canvas are decoded window by window (so that the VAE's memory does
    /// not grow with the length) and the images joined with crossfades where the windows overlap.
    /// HiFi-GAN, whose output at a frame depends only on nearby frames, then vocodes the joined
    /// log-mel window by window too, crossfaded where the windows agree; Griffin-Lim vocodes it in
    /// blocks of its own that hand their phases on, since blocks phased apart would cancel where
    /// they are crossfaded (``GriffinLim/reconstruct(frameCount:magnitudes:progress:)``).
    /// The VAE decoder's products run in `products` (a fast preset's ``SpeedOptions/products``),
    /// the vocoder's in float32. `progress` hears each window decoded and vocoded (Griffin-Lim:
    /// each iteration) and cancels by returning `false`.
    /// - Throws: ``PipelineError/cancelled`` when `progress` returns `false`; model errors.
    public func render(_ latents: Tensor, duration: Double, products: ProductPrecision = .float32,
                       progress: (RenderProgress) -> Bool = { _ in true }) throws -> GenerationResult {
        guard latents.rank == 4, latents.shape[0] >= 1, latents.shape[3] >= 1 else {
            throw PipelineError.invalidRequest("latents to render must be [B, C, h, w], got \(latents.shape)")
        }
        guard duration > 0, duration.isFinite else {
            throw PipelineError.invalidValue(field: "duration", reason: "must be a positive number of seconds, got \(duration)")
        }
        let windows = LatentWindows(spanWidth: latents.shape[3], windowWidth: canvasLatentWidth)
        let factor = downsamplingFactor
        func report(_ stage: RenderProgress.Stage, _ done: Int, of total: Int) throws {
            guard progress(RenderProgress(stage: stage, done: done, total: total)) else { throw PipelineError.cancelled }
        }
        let image: SpectrogramImage
        do {    // the VAE is released before the vocoder loads when networks are kept one at a time
            let codec = try codec
            let images = try windows.offsets.indices.map { window in
                let part = windows.isWindowed ? latents.sliced(axis: 3, windows.columns(of: window)) : latents
                guard let image = try ProductPrecision.with(products, { try codec.images(from: part) }).first else {
                    throw PipelineError.invalidRequest("no latents to decode")
                }
                try report(.decoding, window + 1, of: windows.offsets.count)
                return image.pixels
            }
            image = SpectrogramImage(pixels: windows.joined(images, scale: factor))
        }
        let vocoder = try vocoder
        let samples: [Float]
        if case .hifiGAN = vocoder {
            let waveforms = try windows.offsets.indices.map { window in
                let frames = windows.columns(of: window)
                let part = try vocoder.waveform(logMel: windows.isWindowed
                    ? image.logMel.sliced(axis: 1, (frames.lowerBound * factor)..<(frames.upperBound * factor)) : image.logMel)
                try report(.vocoding, window + 1, of: windows.offsets.count)
                return Tensor(shape: [1, part.count], scalars: part)
            }
            samples = windows.joined(waveforms, scale: factor * melParameters.hopLength).scalars
        } else {
            do {
                samples = try vocoder.waveform(logMel: image.logMel) { done, total in
                    progress(RenderProgress(stage: .vocoding, done: done, total: total))
                }
            } catch is CancellationError {
                throw PipelineError.cancelled
            }
        }
        let length = min(samples.count, Int(duration * Double(melParameters.sampleRate)))
        return GenerationResult(audio: AudioBuffer(mono: Array(samples.prefix(length)), sampleRate: Double(melParameters.sampleRate)),
                                logMel: image.logMel, image: image, latents: latents, initialLatents: latents, droppedTokenCount: 0)
    }

    /// Scaled latents of a spectrogram image (``LatentCodec/latents(of:sampling:)``); an image
    /// wider than the canvas is encoded window by window and joined with crossfades. `progress`
    /// hears each window encoded and cancels by returning `false`.
    /// - Throws: ``PipelineError/cancelled`` when `progress` returns `false`; model errors.
    public func latents(of image: SpectrogramImage, sampling random: inout NoiseSource?,
                        progress: (RenderProgress) -> Bool = { _ in true }) throws -> Tensor {
        let factor = downsamplingFactor
        let windows = LatentWindows(spanWidth: image.width / factor, windowWidth: canvasLatentWidth)
        let parts = try windows.offsets.indices.map { window in
            let columns = windows.columns(of: window)
            let part = windows.isWindowed ? image.resized(toWidth: columns.count * factor, start: columns.lowerBound * factor) : image
            let latents = try codec.latents(of: part, sampling: &random)
            guard progress(RenderProgress(stage: .encoding, done: window + 1, total: windows.offsets.count)) else {
                throw PipelineError.cancelled
            }
            return latents
        }
        return windows.joined(parts)
    }
}
