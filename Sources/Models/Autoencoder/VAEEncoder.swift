import Compute

/// The VAE encoder: diffusers `Encoder` (models/vae.py, 0.18.2) with `double_z=True`.
/// `conv_in` (3×3) → `down_blocks` (each `layers_per_block` resnets, then a stride-2
/// downsampler except on the last level) → `mid_block` → GroupNorm, SiLU → `conv_out` (3×3) to
/// `2 · latent_channels` moments. Keys: `conv_in`, `down_blocks.{i}`, `mid_block`,
/// `conv_norm_out`, `conv_out`. The residual blocks' 3×3 convolutions run through Winograd
/// F(2×2, 3×3), the downsamplers and `conv_in`/`conv_out` direct: on the full-size synthetic
/// encoder the mean is within nmse 3.1e-8 of diffusers', the log-variance 1.9e-7 (bound 1e-6).
struct VAEEncoder: Sendable {
    let convIn: Conv2d
    let downBlocks: [DownEncoderBlock2D]
    let midBlock: VAEMidBlock
    let normOut: GroupNorm
    let convOut: Conv2d

    init(_ parameters: Parameters, configuration: AutoencoderConfiguration) {
        let channels = configuration.blockOutChannels, groups = configuration.normGroups
        let widest = channels[channels.count - 1]
        convIn = Conv2d(parameters["conv_in"], inputs: configuration.inChannels, outputs: channels[0], kernel: 3, padding: 1)
        downBlocks = channels.indices.map { level in
            DownEncoderBlock2D(parameters["down_blocks", level], inputs: channels[Swift.max(0, level - 1)],
                               outputs: channels[level], layers: configuration.layersPerBlock, groups: groups,
                               downsamples: level < channels.count - 1)
        }
        midBlock = VAEMidBlock(parameters["mid_block"], channels: widest, groups: groups)
        normOut = GroupNorm(parameters["conv_norm_out"], groups: groups, channels: widest, epsilon: AutoencoderKL.normEpsilon)
        convOut = Conv2d(parameters["conv_out"], inputs: widest, outputs: 2 * configuration.latentChannels, kernel: 3, padding: 1)
    }

    /// `[B, C_in, H, W] → [B, 2L, H/f, W/f]` with `f` the downsampling factor.
    func callAsFunction(_ image: Tensor) -> Tensor {
        var h = convIn(image)                       // [B, C_0, H, W]
        for block in downBlocks { h = block(h) }    // [B, C_last, H/f, W/f]
        h = midBlock(h)
        return convOut(normOut(h).silu())
    }
}

/// diffusers `DownEncoderBlock2D` (models/unet_2d_blocks.py): resnets without a time embedding,
/// then, except on the last level, `Downsample2D` with diffusers' asymmetric padding (one zero
/// row and column at the bottom and right, then a 3×3 stride-2 convolution).
/// Keys: `resnets.{j}`, `downsamplers.0`.
struct DownEncoderBlock2D: Sendable {
    let resnets: [ResnetBlock2D]
    let downsampler: Downsample2D?

    init(_ parameters: Parameters, inputs: Int, outputs: Int, layers: Int, groups: Int, downsamples: Bool) {
        resnets = (0..<layers).map { layer in
            ResnetBlock2D(parameters["resnets", layer], inputs: layer == 0 ? inputs : outputs, outputs: outputs,
                          timeEmbeddingChannels: nil, groups: groups, epsilon: AutoencoderKL.normEpsilon, strategy: .winograd)
        }
        downsampler = downsamples ? Downsample2D(parameters["downsamplers", 0], channels: outputs, padding: 0) : nil
    }

    /// `[B, C_in, H, W] → [B, C_out, H/2, W/2]` (`[B, C_out, H, W]` on the last level).
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for resnet in resnets { h = resnet(h) }
        return downsampler.map { $0(h) } ?? h
    }
}
