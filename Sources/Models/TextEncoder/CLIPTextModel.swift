import Compute

/// The CLIP text encoder: token ids to one embedding per token, the conditioning the U-Net
/// cross-attends to.
///
/// Port of transformers 4.30.2 `CLIPTextModel` / `CLIPTextTransformer` (models/clip/modeling_clip.py),
/// returning `last_hidden_state` (docs/reference.md §3.2): `h = token_embedding[ids] + position_embedding[0..<N]`,
/// then ``CLIPTextConfiguration/layerCount`` pre-norm layers with causal self-attention
/// (``CLIPEncoderLayer``), then `final_layer_norm`. No attention mask is applied (no pipeline
/// passes one), so padding tokens take part like any other, and thanks to the causal mask the
/// rows before the padding do not depend on it.
///
/// Keys (transformers' names, below `text_model.`): `embeddings.token_embedding.weight [V, D]`,
/// `embeddings.position_embedding.weight [P, D]`, `encoder.layers.<i>.…`, `final_layer_norm.*`.
/// The buffer `embeddings.position_ids` is not a parameter.
///
/// ```swift
/// let encoder = try CLIPTextModel(contentsOf: folder.appending(path: "text_encoder"))
/// let prompt = tokenizer.encode("a dog barks")
/// let embeddings = try encoder([prompt.ids])   // [1, 77, 768]
/// ```
public struct CLIPTextModel: Sendable {
    public let configuration: CLIPTextConfiguration
    let tokenEmbedding: Tensor     // [V, D]
    let positionEmbedding: Tensor  // [P, D]
    let layers: [CLIPEncoderLayer]
    let finalLayerNorm: LayerNorm

    /// Builds the encoder from `parameters`, whose keys start with `text_model.`.
    public init(configuration: CLIPTextConfiguration, parameters: Parameters) {
        let model = parameters["text_model"]
        let embeddings = model["embeddings"]
        let width = configuration.hiddenSize
        self.configuration = configuration
        tokenEmbedding = embeddings["token_embedding"].tensor("weight", shape: [configuration.vocabularySize, width])
        positionEmbedding = embeddings["position_embedding"].tensor("weight", shape: [configuration.maxPositions, width])
        layers = (0..<configuration.layerCount).map { CLIPEncoderLayer(configuration, parameters: model["encoder"]["layers", $0]) }
        finalLayerNorm = LayerNorm(model["final_layer_norm"], width: width, epsilon: configuration.layerNormEpsilon)
    }

    /// `last_hidden_state` for a batch of token-id rows of equal length.
    /// - Parameter ids: `B` rows of `N` ids each, `1 ≤ N ≤ maxPositions`, every id below `vocabularySize`.
    /// - Returns: `[B, N, hiddenSize]`.
    /// - Throws: ``TextEncoderError/invalidTokens(reason:)`` when the rows are empty, of unequal
    ///   length, too long, or hold an id outside the vocabulary.
    public func callAsFunction(_ ids: [[Int]]) throws -> Tensor {
        let width = configuration.hiddenSize
        let length = ids.first?.count ?? 0
        guard length > 0, ids.allSatisfy({ $0.count == length }) else {
            throw TextEncoderError.invalidTokens(reason: "expected rows of equal, non-zero length, got lengths \(ids.map(\.count))")
        }
        guard length <= configuration.maxPositions else {
            throw TextEncoderError.invalidTokens(reason: "\(length) tokens, but the encoder has \(configuration.maxPositions) positions")
        }
        if let bad = ids.joined().first(where: { $0 < 0 || $0 >= configuration.vocabularySize }) {
            throw TextEncoderError.invalidTokens(reason: "id \(bad) is outside the vocabulary of \(configuration.vocabularySize)")
        }
        var scalars = [Float]()
        scalars.reserveCapacity(ids.count * length * width)
        for row in ids {
            for (position, id) in row.enumerated() {                               // [B, N] -> [B, N, D]
                for channel in 0..<width {
                    scalars.append(tokenEmbedding.scalars[id * width + channel] + positionEmbedding.scalars[position * width + channel])
                }
            }
        }
        var hidden = Tensor(shape: [ids.count, length, width], scalars: scalars)
        for layer in layers { hidden = layer(hidden) }                              // [B, N, D]
        return finalLayerNorm(hidden)
    }
}
