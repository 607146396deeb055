import Compute
import Foundation

/// One pre-norm transformer layer of the CLIP text encoder: causal self-attention, then an MLP,
/// each added back to its input.
///
/// Port of transformers 4.30.2 `CLIPEncoderLayer`, `CLIPAttention` and `CLIPMLP`
/// (models/clip/modeling_clip.py): `h += out_proj(attention(layer_norm1(h)))`, with queries,
/// keys and values from biased projections, `head_dim^-0.5` scaling and a causal mask (token `i`
/// sees tokens `0…i`); then `h += fc2(act(fc1(layer_norm2(h))))` (docs/reference.md §3.2).
/// Keys, below `text_model.encoder.layers.<i>.`: `self_attn.{q,k,v,out}_proj.{weight,bias}`,
/// `layer_norm1.*`, `mlp.fc1.*`, `mlp.fc2.*`, `layer_norm2.*`.
struct CLIPEncoderLayer: Sendable {
    let layerNorm1: LayerNorm
    let query: Linear
    let key: Linear
    let value: Linear
    let output: Linear
    let layerNorm2: LayerNorm
    let fc1: Linear
    let fc2: Linear
    let headCount: Int
    let activation: CLIPTextConfiguration.Activation

    init(_ configuration: CLIPTextConfiguration, parameters: Parameters) {
        let width = configuration.hiddenSize
        let attention = parameters["self_attn"]
        layerNorm1 = LayerNorm(parameters["layer_norm1"], width: width, epsilon: configuration.layerNormEpsilon)
        query = Linear(attention["q_proj"], inputs: width, outputs: width)
        key = Linear(attention["k_proj"], inputs: width, outputs: width)
        value = Linear(attention["v_proj"], inputs: width, outputs: width)
        output = Linear(attention["out_proj"], inputs: width, outputs: width)
        layerNorm2 = LayerNorm(parameters["layer_norm2"], width: width, epsilon: configuration.layerNormEpsilon)
        fc1 = Linear(parameters["mlp"]["fc1"], inputs: width, outputs: configuration.intermediateSize)
        fc2 = Linear(parameters["mlp"]["fc2"], inputs: configuration.intermediateSize, outputs: width)
        headCount = configuration.headCount
        activation = configuration.activation
    }

    /// `[B, N, D] → [B, N, D]`.
    func callAsFunction(_ hiddenStates: Tensor) -> Tensor {
        var hidden = hiddenStates
        hidden.add(output(selfAttention(layerNorm1(hidden))))
        let expanded = fc1(layerNorm2(hidden))                                  // [B, N, D] -> [B, N, I]
        let activated = switch activation {
        case .quickGELU: expanded.quickGELU()
        case .gelu: expanded.gelu()
        }
        hidden.add(fc2(activated))                                              // [B, N, I] -> [B, N, D]
        return hidden
    }

    /// Causal multi-head attention before the output projection: `[B, N, D] → [B, N, D]`, the
    /// heads read in place in the projections' rows.
    private func selfAttention(_ x: Tensor) -> Tensor {
        let depth = x.shape[2] / headCount
        return Attention.scaledDotProduct(query: query(x), key: key(x), value: value(x), heads: headCount,
                                          scale: Float(pow(Double(depth), -0.5)), causal: true)
    }
}
