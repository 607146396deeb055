import AudioDSP
import Compute
import Models

/// Spectrogram images ⇄ VAE latents, as the diffusers pipelines Auffusion uses convert them.
///
/// Encoding (`StableDiffusionImg2ImgPipeline`, `VaeImageProcessor.preprocess`): the [0, 1] image
/// is repeated over 3 channels and mapped to [−1, 1]; latents are the posterior's mean (or a
/// sample) times `scaling_factor`. Decoding (`AuffusionPipeline` / `decode_latents`):
/// `vae.decode(latents / scaling_factor)`, then `clamp(x/2 + 0.5, 0, 1)`, channel 0 (Auffusion
/// `denormalize_spectrogram` takes the first channel).
public struct LatentCodec: Sendable {
    public let vae: AutoencoderKL

    public init(vae: AutoencoderKL) { self.vae = vae }

    /// Pixels per latent cell along each side.
    public var downsamplingFactor: Int { Self.downsamplingFactor(of: vae.configuration) }

    /// Pixels per latent cell along each side of a VAE of `configuration`.
    public static func downsamplingFactor(of configuration: AutoencoderConfiguration) -> Int {
        1 << (configuration.blockOutChannels.count - 1)
    }

    /// The posterior of an image: `[1, 3, H, W]` input built from the one-channel image.
    public func posterior(of image: SpectrogramImage) throws -> DiagonalGaussian {
        let (height, width) = (image.height, image.width)
        let plane = image.pixels.scalars.map { 2 * $0 - 1 }
        let channels = vae.configuration.inChannels
        return try vae.encode(Tensor(shape: [1, channels, height, width],
                                     scalars: Array([[Float]](repeating: plane, count: channels).joined())))
    }

    /// Scaled latents of an image: the posterior mean, or a sample drawn from `random`.
    public func latents(of image: SpectrogramImage, sampling random: inout NoiseSource?) throws -> Tensor {
        let posterior = try posterior(of: image)
        let unscaled: Tensor
        if var source = random {
            unscaled = posterior.sample(using: &source)
            random = source
        } else {
            unscaled = posterior.mode()
        }
        return unscaled * Float(vae.configuration.scalingFactor)
    }

    /// The spectrogram image of each batch item of scaled latents `[B, 4, h, w]`.
    public func images(from latents: Tensor) throws -> [SpectrogramImage] {
        let decoded = try vae.decode(latents * Float(1 / vae.configuration.scalingFactor))   // [B, 3, H, W]
        let (batch, channels, height, width) = (decoded.shape[0], decoded.shape[1], decoded.shape[2], decoded.shape[3])
        return (0..<batch).map { item in
            let start = item * channels * height * width
            let first = decoded.scalars[start..<start + height * width].map { min(max($0 / 2 + 0.5, 0), 1) }
            return SpectrogramImage(pixels: Tensor(shape: [height, width], scalars: first))
        }
    }
}
