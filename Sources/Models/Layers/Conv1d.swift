import Compute

/// A 1-D convolution, `torch.nn.Conv1d` (stride 1, groups 1, zero padding), optionally stored
/// weight-normalised. Keys: `weight [O, C, k]` (or `weight_g [O, 1, 1]` + `weight_v [O, C, k]`,
/// see ``WeightNorm``) and `bias [O]`.
public struct Conv1d: Sendable {
    public let weight: Tensor
    public let bias: Tensor
    public let padding: Int
    public let dilation: Int
    /// Whether it runs through Winograd F(4, 3) on three-tap pieces of its kernel
    /// (``Convolution/conv1d(_:weight:bias:stride:padding:dilation:inputSlope:adding:winograd:instructionSet:)``;
    /// kernels of 3 or more taps only).
    public let winograd: Bool
    /// The weight transformed for it, when ``preparingWinograd()`` made it; otherwise every call
    /// transforms the weight (which keeps the model's memory at its weights).
    let filter: Convolution.WinogradFilter1D?

    /// Loads a convolution with a bias.
    public init(_ parameters: Parameters, inputs: Int, outputs: Int, kernel: Int, dilation: Int = 1, padding: Int = 0,
                norm: WeightNorm = .folded, winograd: Bool = false) {
        weight = parameters.weight(shape: [outputs, inputs, kernel], norm: norm)
        bias = parameters.tensor("bias", shape: [outputs])
        self.padding = padding
        self.dilation = dilation
        self.winograd = winograd && kernel >= 3
        filter = nil
    }

    private init(_ layer: Conv1d, filter: Convolution.WinogradFilter1D?) {
        (weight, bias, padding, dilation, winograd) = (layer.weight, layer.bias, layer.padding, layer.dilation, layer.winograd)
        self.filter = filter
    }

    /// This layer with its Winograd filter made once, for many calls in a row (2.3 times the
    /// weight's memory for 11 taps: six matrices of four three-tap pieces).
    public func preparingWinograd() -> Conv1d {
        winograd && filter == nil ? Conv1d(self, filter: Convolution.WinogradFilter1D(weight: weight)) : self
    }

    /// `[N, C, L] → [N, O, L + 2p − d(k − 1)]`; with `inputSlope`, of `x.leakyReLU(slope:)`, and
    /// with `residual` (`[N, O, L′]`) added after the bias, neither made as a tensor of its own.
    public func callAsFunction(_ x: Tensor, inputSlope: Float? = nil, adding residual: Tensor? = nil) -> Tensor {
        Convolution.conv1d(x, weight: weight, bias: bias, padding: padding, dilation: dilation, inputSlope: inputSlope,
                           adding: residual,
                           winograd: filter ?? (winograd ? Convolution.WinogradFilter1D(weight: weight) : nil))
    }
}
