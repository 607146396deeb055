import Compute

/// `torch.nn.GroupNorm` with affine parameters. Keys: `weight [C]`, `bias [C]`.
public struct GroupNorm: Sendable {
    public let groups: Int
    public let epsilon: Float
    public let weight: Tensor
    public let bias: Tensor

    public init(_ parameters: Parameters, groups: Int, channels: Int, epsilon: Float) {
        self.groups = groups
        self.epsilon = epsilon
        weight = parameters.tensor("weight", shape: [channels])
        bias = parameters.tensor("bias", shape: [channels])
    }

    /// `[N, C, …] → [N, C, …]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Normalization.groupNorm(x, groups: groups, weight: weight, bias: bias, epsilon: epsilon)
    }
}

/// `torch.nn.LayerNorm` over the last axis with affine parameters. Keys: `weight [D]`, `bias [D]`.
public struct LayerNorm: Sendable {
    public let epsilon: Float
    public let weight: Tensor
    public let bias: Tensor

    public init(_ parameters: Parameters, width: Int, epsilon: Float) {
        self.epsilon = epsilon
        weight = parameters.tensor("weight", shape: [width])
        bias = parameters.tensor("bias", shape: [width])
    }

    /// `[…, D] → […, D]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        Normalization.layerNorm(x, weight: weight, bias: bias, epsilon: epsilon)
    }
}
