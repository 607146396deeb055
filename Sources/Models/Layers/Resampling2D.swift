import Compute

/// diffusers `Downsample2D` with a convolution: a 3×3 convolution of stride 2. The U-Net pads
/// by 1 on every side; the VAE encoder (`padding = 0`) pads one zero row and column at the
/// bottom and right only, then convolves unpadded. Key: `conv`.
public struct Downsample2D: Sendable {
    let conv: Conv2d
    let asymmetric: Bool

    /// - Parameter padding: 1 (U-Net) or 0 (VAE encoder: asymmetric padding as diffusers).
    public init(_ parameters: Parameters, channels: Int, padding: Int) {
        conv = Conv2d(parameters["conv"], inputs: channels, outputs: channels, kernel: 3, stride: 2, padding: padding)
        asymmetric = padding == 0
    }

    /// `[B, C, H, W] → [B, C, H/2, W/2]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        conv(asymmetric ? x.padded2d(bottom: 1, right: 1) : x)
    }
}

/// diffusers `Upsample2D` with a convolution: nearest-neighbour ×2, then a 3×3 convolution,
/// computed on the input's grid as four 2×2 convolutions (``UpsamplingConvolution``). Key: `conv`.
public struct Upsample2D: Sendable {
    let conv: UpsamplingConvolution

    public init(_ parameters: Parameters, channels: Int) {
        let conv = Conv2d(parameters["conv"], inputs: channels, outputs: channels, kernel: 3, padding: 1)
        self.conv = UpsamplingConvolution(weight: conv.weight, bias: conv.bias)
    }

    /// `[B, C, H, W] → [B, C, 2H, 2W]`.
    public func callAsFunction(_ x: Tensor) -> Tensor { conv(x) }
}
