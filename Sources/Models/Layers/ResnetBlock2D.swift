import Compute

/// The residual block of diffusers' U-Net and VAE, `ResnetBlock2D` (models/resnet.py), with
/// `output_scale_factor = 1` and SiLU:
/// `h = conv1(silu(norm1(x)))`, `h += time_emb_proj(silu(t))[:, :, None, None]` when the block
/// has a time embedding, `h = conv2(silu(norm2(h)))`, `out = shortcut(x) + h`, where the shortcut
/// is a 1×1 `conv_shortcut` when the channel count changes.
/// Keys: `norm1`, `conv1`, `time_emb_proj` (U-Net only), `norm2`, `conv2`, `conv_shortcut`.
public struct ResnetBlock2D: Sendable {
    let norm1: GroupNorm
    let conv1: Conv2d
    let timeProjection: Linear?
    let norm2: GroupNorm
    let conv2: Conv2d
    let shortcut: Conv2d?

    /// - Parameters:
    ///   - timeEmbeddingChannels: width of the time embedding, or `nil` (VAE).
    ///   - strategy: how the 3×3 convolutions are evaluated.
    public init(_ parameters: Parameters, inputs: Int, outputs: Int, timeEmbeddingChannels: Int?,
                groups: Int, epsilon: Float, strategy: Convolution.Strategy = .direct) {
        norm1 = GroupNorm(parameters["norm1"], groups: groups, channels: inputs, epsilon: epsilon)
        conv1 = Conv2d(parameters["conv1"], inputs: inputs, outputs: outputs, kernel: 3, padding: 1, strategy: strategy)
        timeProjection = timeEmbeddingChannels.map { Linear(parameters["time_emb_proj"], inputs: $0, outputs: outputs) }
        norm2 = GroupNorm(parameters["norm2"], groups: groups, channels: outputs, epsilon: epsilon)
        conv2 = Conv2d(parameters["conv2"], inputs: outputs, outputs: outputs, kernel: 3, padding: 1, strategy: strategy)
        shortcut = inputs == outputs ? nil : Conv2d(parameters["conv_shortcut"], inputs: inputs, outputs: outputs, kernel: 1)
    }

    /// `[B, C_in, H, W]` (and a `[B, T]` time embedding) → `[B, C_out, H, W]`.
    public func callAsFunction(_ x: Tensor, timeEmbedding: Tensor? = nil) -> Tensor {
        var h = conv1(norm1(x).silu())
        if let timeProjection, let timeEmbedding {
            let projected = timeProjection(timeEmbedding.silu())           // [B, C_out]
            h = h + projected.reshaped([projected.shape[0], projected.shape[1], 1, 1])
        }
        // The residual is added as conv2 stores its output: `h + shortcut(x)`, the same sum as before.
        return conv2(norm2(h).silu(), adding: shortcut.map { $0(x) } ?? x)
    }
}
