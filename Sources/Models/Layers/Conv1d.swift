import Compute

/// A 1-D convolution, `torch.nn.Conv1d` (stride 1, groups 1, zero padding), optionally stored
/// weight-normalised. Keys: `weight [O, C, k]` (or `weight_g [O, 1, 1]` + `weight_v [O, C, k]`,
/// see ``WeightNorm``) and `bias [O]`.
public struct Conv1d: Sendable {
    public let weight: Tensor
    public let bias: Tensor
    public let padding: Int
    public let dilation: Int

    /// Loads a convolution with a bias.
    public init(_ parameters: Parameters, inputs: Int, outputs: Int, kernel: Int, dilation: Int = 1, padding: Int = 0,
                norm: WeightNorm = .folded) {
        weight = parameters.weight(shape: [outputs, inputs, kernel], norm: norm)
        bias = parameters.tensor("bias", shape: [outputs])
        self.padding = padding
        self.dilation = dilation
    }

    /// `[N, C, L] → [N, O, L + 2p − d(k − 1)]`; with `inputSlope`, of `x.leakyReLU(slope:)`, and
    /// with `residual` (`[N, O, L′]`) added after the bias, neither made as a tensor of its own.
    public func callAsFunction(_ x: Tensor, inputSlope: Float? = nil, adding residual: Tensor? = nil) -> Tensor {
        Convolution.conv1d(x, weight: weight, bias: bias, padding: padding, dilation: dilation, inputSlope: inputSlope,
                           adding: residual)
    }
}
