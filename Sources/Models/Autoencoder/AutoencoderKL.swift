import Compute

/// The variational autoencoder between spectrogram images and latents: diffusers `AutoencoderKL`
/// (models/autoencoder_kl.py, 0.18.2; docs/reference.md §5) without tiling or slicing. Rombach et al. 2022,
/// "High-Resolution Image Synthesis with Latent Diffusion Models", §3.1.
///
/// - ``encode(_:)``: image `[B, 3, H, W]` in [−1, 1] → `encoder` → `quant_conv` (1×1) →
///   ``DiagonalGaussian`` posterior over `[B, L, H/f, W/f]`.
/// - ``decode(_:)``: latents `[B, L, h, w]` → `post_quant_conv` (1×1) → `decoder` → image
///   `[B, 3, h·f, w·f]`, roughly in [−1, 1] (not clamped).
///
/// `f` is ``AutoencoderConfiguration/downsamplingFactor`` (8 for the Stable Diffusion VAE: the
/// 256 × 1024 Auffusion canvas has 32 × 128 latents).
///
/// **Scaling factor.** Neither method applies ``scalingFactor``: the caller does, exactly as the
/// diffusers pipelines do outside the VAE. After encoding, the diffusion latents are
/// `Float(scalingFactor) · z` (img2img/inpainting `init_latents = scaling_factor * init_latents`);
/// before decoding, they are multiplied by `Float(1 / scalingFactor)`, the reciprocal taken in
/// double precision (`1 / scaling_factor * latents`). `Pipeline`'s latent codec owns both steps.
///
/// ```swift
/// let vae = try AutoencoderKL(folder: model.appending(path: "vae"))
/// var random = TorchRandomSource(seed: 0)
/// let latents = try vae.encode(image).sample(using: &random) * Float(vae.scalingFactor)
/// let decoded = try vae.decode(latents * Float(1 / vae.scalingFactor))
/// ```
public struct AutoencoderKL: Sendable {
    /// The configuration the model was built from.
    public let configuration: AutoencoderConfiguration
    let encoder: VAEEncoder
    let quantConv: Conv2d
    let postQuantConv: Conv2d
    let decoder: VAEDecoder

    /// The epsilon of every group norm of the encoder and decoder (diffusers hard-codes
    /// `resnet_eps=1e-6` and `eps=1e-6` in models/vae.py).
    static let normEpsilon: Float = 1e-6

    /// `scaling_factor` from the configuration: the caller multiplies encoded latents by it and
    /// divides latents by it before ``decode(_:)`` (see the type's documentation).
    public var scalingFactor: Double { configuration.scalingFactor }

    /// Builds the model, taking every parameter from `parameters` (keys as in docs/reference.md §5.3:
    /// `encoder.…`, `quant_conv.…`, `post_quant_conv.…`, `decoder.…`).
    ///
    /// Problems with the parameters are collected by their ``ParameterLoader``; call its
    /// `finish()` afterwards (``init(folder:variant:)`` does).
    /// - Throws: ``ModelError/unsupportedConfiguration(model:reason:)``.
    public init(configuration: AutoencoderConfiguration, parameters: Parameters) throws {
        try configuration.validate()
        let latents = configuration.latentChannels
        self.configuration = configuration
        encoder = VAEEncoder(parameters["encoder"], configuration: configuration)
        quantConv = Conv2d(parameters["quant_conv"], inputs: 2 * latents, outputs: 2 * latents, kernel: 1)
        postQuantConv = Conv2d(parameters["post_quant_conv"], inputs: latents, outputs: latents, kernel: 1)
        decoder = VAEDecoder(parameters["decoder"], configuration: configuration)
    }

    /// The posterior over the latents of `image` (diffusers `vae.encode(image).latent_dist`).
    ///
    /// - Parameter image: `[B, C_in, H, W]`, values in [−1, 1]; `H` and `W` multiples of the
    ///   downsampling factor (for a spectrogram image, `2 · value − 1` of the [0, 1] picture).
    /// - Returns: a posterior whose mean is `[B, L, H/f, W/f]`.
    /// - Throws: ``ModelError/invalidInput(model:reason:)`` for another shape.
    /// - Complexity: 0.54 T multiply-adds for the Stable Diffusion VAE on a 256 × 1024 image,
    ///   almost all in convolution GEMMs.
    public func encode(_ image: Tensor) throws -> DiagonalGaussian {
        let factor = configuration.downsamplingFactor
        guard image.rank == 4, image.shape[1] == configuration.inChannels, image.shape[2] > 0, image.shape[3] > 0,
              image.shape[2] % factor == 0, image.shape[3] % factor == 0 else {
            throw ModelError.invalidInput(model: "AutoencoderKL", reason: "encode needs an image [B, \(configuration.inChannels), H, W] "
                                          + "with H and W positive multiples of \(factor); got \(image.shape)")
        }
        return DiagonalGaussian(moments: quantConv(encoder(image)))   // [B, 2L, H/f, W/f]
    }

    /// The image for `latents` (diffusers `vae.decode(latents).sample`), already divided by the
    /// scaling factor.
    ///
    /// - Parameter latents: `[B, L, h, w]`.
    /// - Returns: `[B, C_out, h·f, w·f]`.
    /// - Throws: ``ModelError/invalidInput(model:reason:)`` for another shape.
    /// - Complexity: 1.26 T multiply-adds for the Stable Diffusion VAE on 32 × 128 latents,
    ///   almost all in convolution GEMMs (a third of them at the full 256 × 1024 resolution).
    public func decode(_ latents: Tensor) throws -> Tensor {
        guard latents.rank == 4, latents.shape[1] == configuration.latentChannels, latents.shape[2] > 0, latents.shape[3] > 0 else {
            throw ModelError.invalidInput(model: "AutoencoderKL", reason: "decode needs latents [B, \(configuration.latentChannels), h, w]; "
                                          + "got \(latents.shape)")
        }
        return decoder(postQuantConv(latents))
    }
}
