import Compute

/// diffusers' `FeedForward` with the GEGLU activation (models/attention.py):
/// `[u, g] = split(proj(x))`, `out = net.2(u · gelu(g))`, inner width `4C`.
/// Keys: `net.0.proj` (`[8C, C]`), `net.2` (`[C, 4C]`).
public struct FeedForward: Sendable {
    let projection: Linear
    let output: Linear

    public init(_ parameters: Parameters, width: Int, multiplier: Int = 4) {
        let inner = width * multiplier
        projection = Linear(parameters["net", 0]["proj"], inputs: width, outputs: 2 * inner)
        output = Linear(parameters["net", 2], inputs: inner, outputs: width)
    }

    /// `[…, C] → […, C]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        output(projection(x).gatedGELU())   // [..., 8C] -> [..., 4C]
    }
}
