import AudioDSP
import Compute
import Pipeline

/// An input clip prepared for editing: its 16 kHz mono samples and its latents on the canvas.
///
/// Port of the input preparation of Auffusion's `notebooks/img2img.ipynb` and
/// `notebooks/inpainting.ipynb` with diffusers' `StableDiffusionImg2ImgPipeline.prepare_latents`
/// (pipelines/stable_diffusion/pipeline_stable_diffusion_img2img.py, 0.18.2): audio → mono →
/// 16 kHz → peak-normalised log-mel (Auffusion `converter.py` `get_mel_spectrogram_from_audio`) →
/// ``SpectrogramImage`` → right-padded with silence to the canvas (`utils.py` `pad_spec`) → VAE
/// posterior → latents × `scaling_factor`.
///
/// Differences from the reference: the latents are the posterior **mean** unless a noise source
/// is given (the reference always samples, RNG draw #1 of docs/reference.md §7.3/§7.4), so the result is
/// deterministic; a clip longer than the canvas is **cropped** to it (from its start, where the
/// notebooks pick a window by hand) and ``wasCropped`` says so, so that the caller can warn.
public struct ClipLatents: Sendable {
    /// The clip as the edit sees it: mono, at the model's sample rate, at most the canvas long.
    public let audio: AudioBuffer
    /// Scaled latents `[1, 4, mels/f, canvas/f]` of the padded spectrogram image.
    public let latents: Tensor
    /// The padded spectrogram image `[mels, canvas]` the latents encode.
    public let image: SpectrogramImage
    /// Spectrogram frames of the canvas.
    public let canvasFrames: Int
    /// Whether the input was longer than the canvas and lost its tail.
    public let wasCropped: Bool

    /// Encodes `clip` for `pipeline` on a canvas of `canvasFrames` frames.
    ///
    /// - Parameters:
    ///   - clip: any sample rate and channel count.
    ///   - canvasFrames: the canvas width in spectrogram frames, a multiple of the VAE factor;
    ///     `nil`: the model's canvas (``AuffusionPipeline/canvasFrames``).
    ///   - posteriorNoise: `nil` for the posterior mean; else the source a posterior sample draws from.
    ///   - progress: each window encoded (``RenderProgress/Stage/encoding``); `false` cancels.
    /// - Throws: ``EditingError/emptyClip``, ``PipelineError/invalidValue(field:reason:)`` for a
    ///   canvas off the VAE's grid or longer than the longest generation, resampling and model errors;
    ///   ``PipelineError/cancelled``.
    public init(encoding clip: AudioBuffer, pipeline: AuffusionPipeline, canvasFrames: Int? = nil,
                posteriorNoise: inout NoiseSource?, progress: (RenderProgress) -> Bool = { _ in true }) throws {
        guard clip.frameCount > 0 else { throw EditingError.emptyClip }
        let canvasFrames = canvasFrames ?? pipeline.canvasFrames
        let grid = pipeline.downsamplingFactor, longest = Int(AuffusionPipeline.longestDuration * pipeline.melParameters.framesPerSecond)
        guard canvasFrames > 0, canvasFrames % grid == 0, canvasFrames <= longest else {
            throw PipelineError.invalidValue(field: "canvas", reason: "must be a positive multiple of \(grid) frames, at most \(longest), got \(canvasFrames)")
        }
        let parameters = pipeline.melParameters
        let resampled = try Resampler.resample(clip.mixedToMono(), to: Double(parameters.sampleRate))
        let canvasSamples = canvasFrames * parameters.hopLength
        let samples = resampled.channels[0]
        wasCropped = samples.count > canvasSamples
        audio = AudioBuffer(mono: Array(samples.prefix(canvasSamples)), sampleRate: Double(parameters.sampleRate))
        let logMel = try MelAnalyzer(parameters).logMel(of: audio.channels[0])       // [mels, frames]
        image = SpectrogramImage(logMel: logMel).resized(toWidth: canvasFrames)     // [mels, canvas]
        latents = try pipeline.latents(of: image, sampling: &posteriorNoise, progress: progress)   // [1, 4, mels/f, canvas/f]
        self.canvasFrames = canvasFrames
    }

    /// The clip's length in seconds (after any crop).
    public var duration: Double { audio.duration }
}
