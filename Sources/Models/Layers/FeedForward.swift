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

    /// Tokens fed through at once. A 10 s clip's 2 × 4096 tokens at C = 320 would make an 84 MB
    /// projection and a 42 MB gated half at once, part of a generation's peak memory; in pieces of
    /// 1024 tokens they take 16 MB. Each token's output is computed as in one pass, bit for bit
    /// (every output row of a product depends on its input row alone, summed in the same order).
    static let tokensPerPiece = 1024

    /// `[…, C] → […, C]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let width = x.shape.last ?? 0, tokens = x.count / Swift.max(1, width)
        guard tokens > Self.tokensPerPiece else { return output(projection(x).gatedGELU()) }   // [..., 8C] -> [..., 4C]
        var result: [Float] = []
        result.reserveCapacity(x.count)
        for first in stride(from: 0, to: tokens, by: Self.tokensPerPiece) {
            let count = Swift.min(Self.tokensPerPiece, tokens - first)
            let piece = Tensor(shape: [count, width], scalars: Array(x.scalars[(first * width)..<((first + count) * width)]))
            result.append(contentsOf: output(projection(piece).gatedGELU()).scalars)
        }
        return Tensor(shape: x.shape, scalars: result)
    }
}
