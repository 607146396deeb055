import Compute

/// A transposed 1-D convolution, `torch.nn.ConvTranspose1d` (groups 1, dilation 1), optionally
/// stored weight-normalised. Keys: `weight [C, O, k]` (or `weight_g [C, 1, 1]` + `weight_v
/// [C, O, k]`: the magnitude is per *input* channel, see ``WeightNorm``) and `bias [O]`.
public struct ConvTranspose1d: Sendable {
    public let weight: Tensor
    public let bias: Tensor
    public let stride: Int
    public let padding: Int
    public let outputPadding: Int

    /// Loads a transposed convolution with a bias.
    public init(_ parameters: Parameters, inputs: Int, outputs: Int, kernel: Int, stride: Int, padding: Int,
                outputPadding: Int = 0, norm: WeightNorm = .folded) {
        weight = parameters.weight(shape: [inputs, outputs, kernel], norm: norm)
        bias = parameters.tensor("bias", shape: [outputs])
        self.stride = stride
        self.padding = padding
        self.outputPadding = outputPadding
    }

    /// `[N, C, L] → [N, O, (L − 1)·s − 2p + k + outputPadding]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Convolution.convTranspose1d(x, weight: weight, bias: bias, stride: stride, padding: padding,
                                    outputPadding: outputPadding)
    }
}
