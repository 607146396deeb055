import Compute

/// The VAE decoder: diffusers `Decoder` (models/vae.py, 0.18.2) with group norms
/// (`norm_type="group"`). `conv_in` (3×3, latents → widest) → `mid_block` → `up_blocks` (each
/// `layers_per_block + 1` resnets, then nearest ×2 and a 3×3 convolution except on the last
/// level; widths are `block_out_channels` reversed) → GroupNorm, SiLU → `conv_out` (3×3).
/// Keys: `conv_in`, `mid_block`, `up_blocks.{i}`, `conv_norm_out`, `conv_out`.
///
/// The residual blocks (of the up blocks and the mid block: most of the decoder's multiply-adds)
/// run their 3×3 convolutions through Winograd F(2×2, 3×3); the upsamplers compute nearest ×2 and
/// their 3×3 convolution as four 2×2 convolutions of the input (``Upsample2D``); `conv_in` and
/// `conv_out` are direct. Measured on the full-size synthetic decoder against diffusers
/// (AutoencoderFullSizeTests, bound nmse 1e-6): all direct 1.25e-8, as here 4.7e-8; the
/// upsamplers' convolutions through Winograd instead 1.3e-6 to 1.7e-6, over the bound (their input
/// is nearest-upsampled, and that is where Winograd's rounding grows). docs/compute.md has the steps.
struct VAEDecoder: Sendable {
    let convIn: Conv2d
    let midBlock: VAEMidBlock
    let upBlocks: [UpDecoderBlock2D]
    let normOut: GroupNorm
    let convOut: Conv2d

    init(_ parameters: Parameters, configuration: AutoencoderConfiguration) {
        let channels = Array(configuration.blockOutChannels.reversed()), groups = configuration.normGroups
        let narrowest = channels[channels.count - 1]
        convIn = Conv2d(parameters["conv_in"], inputs: configuration.latentChannels, outputs: channels[0], kernel: 3, padding: 1)
        midBlock = VAEMidBlock(parameters["mid_block"], channels: channels[0], groups: groups)
        upBlocks = channels.indices.map { level in
            UpDecoderBlock2D(parameters["up_blocks", level], inputs: channels[Swift.max(0, level - 1)],
                             outputs: channels[level], layers: configuration.layersPerBlock + 1, groups: groups,
                             upsamples: level < channels.count - 1)
        }
        normOut = GroupNorm(parameters["conv_norm_out"], groups: groups, channels: narrowest, epsilon: AutoencoderKL.normEpsilon)
        convOut = Conv2d(parameters["conv_out"], inputs: narrowest, outputs: configuration.outChannels, kernel: 3, padding: 1)
    }

    /// `[B, L, h, w] → [B, C_out, h·f, w·f]` with `f` the downsampling factor.
    func callAsFunction(_ latents: Tensor) -> Tensor {
        var h = midBlock(convIn(latents))           // [B, C_widest, h, w]
        for block in upBlocks { h = block(h) }      // [B, C_0, h·f, w·f]
        return convOut(normOut(h).silu())
    }
}

/// diffusers `UpDecoderBlock2D` (models/unet_2d_blocks.py): resnets without a time embedding,
/// then, except on the last level, `Upsample2D` (nearest ×2, 3×3 convolution).
/// Keys: `resnets.{j}`, `upsamplers.0`.
struct UpDecoderBlock2D: Sendable {
    let resnets: [ResnetBlock2D]
    let upsampler: Upsample2D?

    init(_ parameters: Parameters, inputs: Int, outputs: Int, layers: Int, groups: Int, upsamples: Bool) {
        resnets = (0..<layers).map { layer in
            ResnetBlock2D(parameters["resnets", layer], inputs: layer == 0 ? inputs : outputs, outputs: outputs,
                          timeEmbeddingChannels: nil, groups: groups, epsilon: AutoencoderKL.normEpsilon, strategy: .winograd)
        }
        upsampler = upsamples ? Upsample2D(parameters["upsamplers", 0], channels: outputs) : nil
    }

    /// `[B, C_in, h, w] → [B, C_out, 2h, 2w]` (`[B, C_out, h, w]` on the last level).
    func callAsFunction(_ x: Tensor) -> Tensor {
        var h = x
        for resnet in resnets { h = resnet(h) }
        return upsampler.map { $0(h) } ?? h
    }
}
