import Compute

/// Multi-head attention as diffusers' `Attention` (models/attention_processor.py) computes it
/// with its default processor: `to_q`, `to_k`, `to_v` projections (bias optional), heads split
/// batch-major, `softmax(QKᵀ · scale)·V` with `scale = dimHead^−½`, heads merged, `to_out.0`.
/// Keys: `to_q`, `to_k`, `to_v`, `to_out.0`.
public struct AttentionLayer: Sendable {
    let query: Linear
    let key: Linear
    let value: Linear
    let output: Linear
    public let heads: Int
    public let headWidth: Int

    /// - Parameters:
    ///   - queryWidth: channels of the queries (and of the output).
    ///   - contextWidth: channels of the keys/values' source (`cross_attention_dim`), or `nil` for self-attention.
    ///   - projectionBias: whether `to_q/to_k/to_v` have a bias (the VAE's do, the U-Net's do not).
    public init(_ parameters: Parameters, queryWidth: Int, contextWidth: Int?, heads: Int, headWidth: Int,
                projectionBias: Bool) {
        let inner = heads * headWidth, source = contextWidth ?? queryWidth
        query = Linear(parameters["to_q"], inputs: queryWidth, outputs: inner, bias: projectionBias)
        key = Linear(parameters["to_k"], inputs: source, outputs: inner, bias: projectionBias)
        value = Linear(parameters["to_v"], inputs: source, outputs: inner, bias: projectionBias)
        output = Linear(parameters["to_out", 0], inputs: inner, outputs: queryWidth)
        self.heads = heads
        self.headWidth = headWidth
    }

    /// `[B, N, C]` queries attending to `context` `[B, M, C_ctx]` (or to themselves) → `[B, N, C]`.
    /// When a controller wants this `site`, the probabilities go through it.
    public func callAsFunction(_ x: Tensor, context: Tensor? = nil, site: AttentionSite? = nil,
                               controller: (any AttentionController)? = nil) -> Tensor {
        let source = context ?? x
        let (q, k, v) = (query(x), key(source), value(source))   // [B, N, H·d], [B, M, H·d], [B, M, H·d]
        let scale = 1 / Float(headWidth).squareRoot()
        guard let controller, let site, controller.wantsProbabilities(at: site) else {
            // The heads read in place, where the projections wrote them.
            return output(Attention.scaledDotProduct(query: q, key: k, value: v, heads: heads, scale: scale))
        }
        let probabilities = controller.process(Attention.probabilities(query: splitHeads(q), key: splitHeads(k), scale: scale), at: site)
        let attended = Attention.weightedSum(probabilities: probabilities, value: splitHeads(v))
        // [B, H, N, d] -> [B, N, H, d] -> [B, N, H·d]
        return output(attended.permuted([0, 2, 1, 3]).reshaped([x.shape[0], x.shape[1], heads * headWidth]))
    }

    /// `[B, N, H·d] → [B, H, N, d]`.
    private func splitHeads(_ x: Tensor) -> Tensor {
        x.reshaped([x.shape[0], x.shape[1], heads, headWidth]).permuted([0, 2, 1, 3])
    }
}
