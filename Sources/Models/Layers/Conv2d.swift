import Compute

/// A 2-D convolution, `torch.nn.Conv2d` (groups 1). Keys: `weight [O, C, kh, kw]`, `bias [O]`.
public struct Conv2d: Sendable {
    public let weight: Tensor
    public let bias: Tensor?
    public let stride: Int
    public let padding: Int
    public let strategy: Convolution.Strategy

    /// Loads a `kernel × kernel` convolution.
    public init(_ parameters: Parameters, inputs: Int, outputs: Int, kernel: Int, stride: Int = 1, padding: Int = 0,
                bias: Bool = true, strategy: Convolution.Strategy = .direct) {
        weight = parameters.tensor("weight", shape: [outputs, inputs, kernel, kernel])
        self.bias = bias ? parameters.tensor("bias", shape: [outputs]) : nil
        self.stride = stride
        self.padding = padding
        self.strategy = strategy
    }

    /// `[N, C, H, W] → [N, O, H′, W′]`, with `residual` (`[N, O, H′, W′]`) added after the bias.
    public func callAsFunction(_ x: Tensor, adding residual: Tensor? = nil) -> Tensor {
        Convolution.conv2d(x, weight: weight, bias: bias, stride: stride, padding: padding, strategy: strategy, adding: residual)
    }
}
