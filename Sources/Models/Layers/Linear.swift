import Compute

/// A fully connected layer, `torch.nn.Linear`: `y = x·Wᵀ + b` over the last axis.
/// Keys: `weight [out, in]`, `bias [out]` (optional).
public struct Linear: Sendable {
    public let weight: Tensor
    public let bias: Tensor?

    public init(weight: Tensor, bias: Tensor?) {
        self.weight = weight
        self.bias = bias
    }

    /// Loads `weight` and, when `bias` is true, `bias`.
    public init(_ parameters: Parameters, inputs: Int, outputs: Int, bias: Bool = true) {
        weight = parameters.tensor("weight", shape: [outputs, inputs])
        self.bias = bias ? parameters.tensor("bias", shape: [outputs]) : nil
    }

    /// `[…, in] → […, out]`.
    public func callAsFunction(_ x: Tensor) -> Tensor { x.linear(weight: weight, bias: bias) }
}
