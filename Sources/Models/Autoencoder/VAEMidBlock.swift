import Compute

/// The middle of the VAE encoder and decoder: diffusers `UNetMidBlock2D` (models/unet_2d_blocks.py,
/// 0.18.2) without a time embedding, `resnets.0 → attentions.0 → resnets.1`, all at one width.
/// Keys: `resnets.{0,1}`, `attentions.0`.
struct VAEMidBlock: Sendable {
    let first: ResnetBlock2D
    let attention: VAEAttentionBlock
    let second: ResnetBlock2D

    init(_ parameters: Parameters, channels: Int, groups: Int) {
        let epsilon = AutoencoderKL.normEpsilon
        first = ResnetBlock2D(parameters["resnets", 0], inputs: channels, outputs: channels, timeEmbeddingChannels: nil,
                              groups: groups, epsilon: epsilon, strategy: .winograd)
        attention = VAEAttentionBlock(parameters["attentions", 0], channels: channels, groups: groups)
        second = ResnetBlock2D(parameters["resnets", 1], inputs: channels, outputs: channels, timeEmbeddingChannels: nil,
                               groups: groups, epsilon: epsilon, strategy: .winograd)
    }

    /// `[B, C, h, w] → [B, C, h, w]`.
    func callAsFunction(_ x: Tensor) -> Tensor { second(attention(first(x))) }
}

/// The VAE's spatial self-attention: diffusers `Attention` built with `_from_deprecated_attn_block`
/// (`norm_num_groups`, `residual_connection=True`, `bias=True`, `rescale_output_factor=1`) run by
/// its default processor: group-normalise, treat the `h·w` positions as tokens, one head as wide
/// as the channels (scale `C^−½`), project out, add the input. Keys: `group_norm`, `to_q`, `to_k`,
/// `to_v`, `to_out.0` (legacy checkpoints' `query`, `key`, `value`, `proj_attn` are renamed by
/// ``AutoencoderKL/keyRules``).
struct VAEAttentionBlock: Sendable {
    let groupNorm: GroupNorm
    let attention: AttentionLayer

    init(_ parameters: Parameters, channels: Int, groups: Int) {
        groupNorm = GroupNorm(parameters["group_norm"], groups: groups, channels: channels, epsilon: AutoencoderKL.normEpsilon)
        attention = AttentionLayer(parameters, queryWidth: channels, contextWidth: nil, heads: 1, headWidth: channels,
                                   projectionBias: true)
    }

    /// `[B, C, h, w] → [B, C, h, w]`.
    func callAsFunction(_ x: Tensor) -> Tensor {
        let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        // Normalising [B, C, h, w] per group equals diffusers' norm of [B, C, h·w].
        let tokens = groupNorm(x).reshaped([batch, channels, height * width]).permuted([0, 2, 1])   // [B, C, h·w] -> [B, h·w, C]
        let attended = attention(tokens)                                                         // [B, h·w, C]
        var result = attended.permuted([0, 2, 1]).reshaped([batch, channels, height, width])      // [B, h·w, C] -> [B, C, h, w]
        result.add(x)
        return result
    }
}
