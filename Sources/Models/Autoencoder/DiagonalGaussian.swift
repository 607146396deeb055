import Compute
import Foundation

/// The posterior the VAE encoder returns: independent Gaussians with a mean and a log-variance
/// per latent element. Matches diffusers `DiagonalGaussianDistribution` (models/vae.py, 0.18.2):
/// `mean, logvar = chunk(moments, 2, dim=1)`, `logvar = clamp(logvar, −30, 20)`,
/// `std = exp(0.5·logvar)`; Kingma & Welling 2014, "Auto-Encoding Variational Bayes", §2.4
/// (the reparameterisation `z = μ + σ ⊙ ε`).
///
/// ```swift
/// let posterior = try vae.encode(image)
/// var random = TorchRandomSource(seed: 42)
/// let z = posterior.sample(using: &random)   // == latent_dist.sample(generator=manual_seed(42))
/// ```
public struct DiagonalGaussian: Sendable {
    /// `[B, L, h, w]`.
    public let mean: Tensor
    /// `[B, L, h, w]`, clamped to [−30, 20].
    public let logVariance: Tensor
    /// `exp(0.5 · logVariance)`, `[B, L, h, w]`.
    public let standardDeviation: Tensor

    /// Splits the `quant_conv` output along the channels.
    /// - Parameter moments: `[B, 2L, h, w]`: the means, then the log-variances.
    public init(moments: Tensor) {
        precondition(moments.rank == 4 && moments.shape[1] % 2 == 0, "DiagonalGaussian: moments \(moments.shape) are not [B, 2L, h, w]")
        let latents = moments.shape[1] / 2
        mean = moments.sliced(axis: 1, 0..<latents)                          // [B, 2L, h, w] -> [B, L, h, w]
        logVariance = moments.sliced(axis: 1, latents..<2 * latents).map { Swift.min(Swift.max($0, -30), 20) }
        standardDeviation = logVariance.map { exp(0.5 * $0) }
    }

    /// The most likely latents: the mean (diffusers `mode()`), for deterministic round trips.
    /// - Returns: `[B, L, h, w]`.
    public func mode() -> Tensor { mean }

    /// `mean + std · ε` with `ε` one draw of the mean's shape from `random`, as diffusers'
    /// `sample(generator)` draws `randn_tensor(mean.shape, generator)` (img2img and inpainting
    /// sample; they do not take the mean).
    /// - Returns: `[B, L, h, w]`.
    public func sample(using random: inout some RandomSource) -> Tensor {
        mean + standardDeviation * random.normal(shape: mean.shape)
    }
}
