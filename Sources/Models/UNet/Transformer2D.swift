import Compute

/// diffusers' `BasicTransformerBlock` (models/attention.py) as Stable Diffusion uses it:
/// `x += attn1(norm1(x))` (self), `x += attn2(norm2(x), context)` (cross), `x += ff(norm3(x))`.
/// Keys: `norm1`, `attn1`, `norm2`, `attn2`, `norm3`, `ff`.
struct BasicTransformerBlock: Sendable {
    let norm1: LayerNorm
    let selfAttention: AttentionLayer
    let norm2: LayerNorm
    let crossAttention: AttentionLayer
    let norm3: LayerNorm
    let feedForward: FeedForward

    init(_ parameters: Parameters, width: Int, heads: Int, contextWidth: Int) {
        let headWidth = width / heads
        norm1 = LayerNorm(parameters["norm1"], width: width, epsilon: 1e-5)
        selfAttention = AttentionLayer(parameters["attn1"], queryWidth: width, contextWidth: nil, heads: heads,
                                       headWidth: headWidth, projectionBias: false)
        norm2 = LayerNorm(parameters["norm2"], width: width, epsilon: 1e-5)
        crossAttention = AttentionLayer(parameters["attn2"], queryWidth: width, contextWidth: contextWidth, heads: heads,
                                        headWidth: headWidth, projectionBias: false)
        norm3 = LayerNorm(parameters["norm3"], width: width, epsilon: 1e-5)
        feedForward = FeedForward(parameters["ff"], width: width)
    }

    /// `[B, N, C]` tokens with `[B, M, C_ctx]` context → `[B, N, C]`. With `twinHalf`, `x` is the
    /// first half `[B/2, N, C]` of a batch whose halves are equal: the self-attention runs on it,
    /// and its result, copied into both halves, goes on to the cross-attention.
    func callAsFunction(_ x: Tensor, context: Tensor, site: AttentionSite, controller: (any AttentionController)?,
                        twinHalf: Bool = false) -> Tensor {
        var h = x
        var selfSite = site
        selfSite.isCrossAttention = false
        h.add(selfAttention(norm1(h), site: selfSite, controller: controller))
        if twinHalf { h = h.twinned() }
        var crossSite = site
        crossSite.isCrossAttention = true
        h.add(crossAttention(norm2(h), context: context, site: crossSite, controller: controller))
        h.add(feedForward(norm3(h)))
        return h
    }
}

/// diffusers' `Transformer2DModel` (models/transformer_2d.py) for continuous inputs with one
/// transformer block: group norm (eps 1e-6), `proj_in` (1×1 convolution, or linear after the
/// reshape when `use_linear_projection`), the block, `proj_out`, plus the residual.
/// Keys: `norm`, `proj_in`, `transformer_blocks.0`, `proj_out`.
struct Transformer2D: Sendable {
    let norm: GroupNorm
    let projectIn: Linear
    let block: BasicTransformerBlock
    let projectOut: Linear

    init(_ parameters: Parameters, channels: Int, heads: Int, contextWidth: Int, groups: Int) {
        norm = GroupNorm(parameters["norm"], groups: groups, channels: channels, epsilon: 1e-6)
        // A 1×1 convolution on [B, C, H, W] equals a linear map on the [B, H·W, C] tokens; both
        // weight layouts load ([C, C, 1, 1] or [C, C]), so one code path serves both configs.
        projectIn = Linear(parameters["proj_in"], inputs: channels, outputs: channels)
        block = BasicTransformerBlock(parameters["transformer_blocks", 0], width: channels, heads: heads, contextWidth: contextWidth)
        projectOut = Linear(parameters["proj_out"], inputs: channels, outputs: channels)
    }

    /// `[B, C, H, W]` → `[B, C, H, W]`; `site` gives the block coordinates (its spatial size is set here).
    /// With `twinHalf`, `x` is the first half `[B/2, C, H, W]` of a batch whose halves are equal
    /// (``BasicTransformerBlock``), and the whole batch comes back.
    func callAsFunction(_ x: Tensor, context: Tensor, site: AttentionSite, controller: (any AttentionController)?,
                        twinHalf: Bool = false) -> Tensor {
        let (channels, height, width) = (x.shape[1], x.shape[2], x.shape[3])
        // [B, C, H, W] -> [B, H, W, C] -> [B, H·W, C]
        var tokens = norm(x).permuted([0, 2, 3, 1]).reshaped([x.shape[0], height * width, channels])
        tokens = projectIn(tokens)
        var located = site
        located.height = height
        located.width = width
        tokens = projectOut(block(tokens, context: context, site: located, controller: controller, twinHalf: twinHalf))
        // [B, H·W, C] -> [B, H, W, C] -> [B, C, H, W]
        var result = tokens.reshaped([tokens.shape[0], height, width, channels]).permuted([0, 3, 1, 2])
        result.add(twinHalf ? x.twinned() : x)
        return result
    }
}
