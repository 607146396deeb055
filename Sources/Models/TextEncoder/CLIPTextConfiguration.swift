import Compute
import Foundation

/// The hyper-parameters of a CLIP text encoder: a mirror of `text_encoder/config.json`.
///
/// Matches transformers 4.30.2 `CLIPTextConfig` (models/clip/configuration_clip.py): the keys the
/// text encoder uses, with that class's defaults for absent keys (so a config that omits
/// `hidden_size` gets 512, not CLIP-L's 768). Keys the encoder does not need (`projection_dim`,
/// token ids, dropout, initialisation) are ignored. Auffusion's `text_encoder_0` and Stable
/// Diffusion 1.x's `text_encoder` hold openai/clip-vit-large-patch14's text tower (docs/reference.md §3.2):
/// 49408 tokens, 768 wide, 12 layers of 12 heads, MLP 3072, 77 positions, `quick_gelu`.
public struct CLIPTextConfiguration: Codable, Sendable, Equatable {
    /// The MLP activation, `hidden_act`.
    public enum Activation: String, Codable, Sendable {
        /// `x · σ(1.702 x)`.
        case quickGELU = "quick_gelu"
        /// `x · Φ(x)` with the exact error function.
        case gelu
    }

    public var vocabularySize: Int
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var layerCount: Int
    public var headCount: Int
    /// The number of positions, hence the longest token sequence the encoder takes.
    public var maxPositions: Int
    public var activation: Activation
    public var layerNormEpsilon: Float

    enum CodingKeys: String, CodingKey {
        case vocabularySize = "vocab_size"
        case hiddenSize = "hidden_size"
        case intermediateSize = "intermediate_size"
        case layerCount = "num_hidden_layers"
        case headCount = "num_attention_heads"
        case maxPositions = "max_position_embeddings"
        case activation = "hidden_act"
        case layerNormEpsilon = "layer_norm_eps"
    }

    /// A configuration; the defaults are transformers'.
    public init(vocabularySize: Int = 49408, hiddenSize: Int = 512, intermediateSize: Int = 2048, layerCount: Int = 12,
                headCount: Int = 8, maxPositions: Int = 77, activation: Activation = .quickGELU,
                layerNormEpsilon: Float = 1e-5) {
        self.vocabularySize = vocabularySize
        self.hiddenSize = hiddenSize
        self.intermediateSize = intermediateSize
        self.layerCount = layerCount
        self.headCount = headCount
        self.maxPositions = maxPositions
        self.activation = activation
        self.layerNormEpsilon = layerNormEpsilon
    }

    /// openai/clip-vit-large-patch14's text tower, the encoder of Auffusion and Stable Diffusion 1.x.
    public static let clipViTLargePatch14 = CLIPTextConfiguration(hiddenSize: 768, intermediateSize: 3072, headCount: 12)

    /// Decodes a `config.json`, with transformers' defaults for absent keys.
    /// - Throws: ``TextEncoderError/unsupportedActivation(_:)`` for a `hidden_act` other than
    ///   `quick_gelu` and `gelu`; a `DecodingError` for a key of the wrong type.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = CLIPTextConfiguration()
        vocabularySize = try container.decodeIfPresent(Int.self, forKey: .vocabularySize) ?? defaults.vocabularySize
        hiddenSize = try container.decodeIfPresent(Int.self, forKey: .hiddenSize) ?? defaults.hiddenSize
        intermediateSize = try container.decodeIfPresent(Int.self, forKey: .intermediateSize) ?? defaults.intermediateSize
        layerCount = try container.decodeIfPresent(Int.self, forKey: .layerCount) ?? defaults.layerCount
        headCount = try container.decodeIfPresent(Int.self, forKey: .headCount) ?? defaults.headCount
        maxPositions = try container.decodeIfPresent(Int.self, forKey: .maxPositions) ?? defaults.maxPositions
        layerNormEpsilon = try container.decodeIfPresent(Float.self, forKey: .layerNormEpsilon) ?? defaults.layerNormEpsilon
        let activationName = try container.decodeIfPresent(String.self, forKey: .activation) ?? defaults.activation.rawValue
        guard let activation = Activation(rawValue: activationName) else {
            throw TextEncoderError.unsupportedActivation(activationName)
        }
        self.activation = activation
    }

    /// Reads and checks a `config.json`.
    /// - Throws: ``TextEncoderError`` when the file is missing, unreadable or not a valid
    ///   configuration (a size out of range, a width not divisible by the head count).
    public init(contentsOf url: URL) throws {
        self = try ConfigurationFile.decode(Self.self, at: url, expected: "a CLIP text model configuration")
        do { try validate() } catch { throw TextEncoderError.corrupt(path: url.path, reason: "\(error)") }
    }

    /// Checks every size before anything is allocated from it (ranges in docs/reliability.md).
    /// - Throws: ``ModelError/unsupportedConfiguration(model:reason:)`` naming the field.
    public func validate() throws {
        func fail(_ reason: String) -> ModelError { .unsupportedConfiguration(model: "CLIPTextModel", reason: reason) }
        try FieldBounds.check("vocab_size", vocabularySize, in: 1...1_048_576, else: fail)
        try FieldBounds.check("hidden_size", hiddenSize, in: 1...8192, else: fail)
        try FieldBounds.check("intermediate_size", intermediateSize, in: 1...65536, else: fail)
        try FieldBounds.check("num_hidden_layers", layerCount, in: 0...128, else: fail)
        try FieldBounds.check("num_attention_heads", headCount, in: 1...hiddenSize, else: fail)
        try FieldBounds.check("max_position_embeddings", maxPositions, in: 1...16384, else: fail)
        try FieldBounds.check("layer_norm_eps", Double(layerNormEpsilon), in: 1e-12...1, else: fail)
        guard hiddenSize % headCount == 0 else {
            throw fail("hidden_size \(hiddenSize) does not divide into \(headCount) heads (num_attention_heads)")
        }
    }

    /// The parameters the encoder holds, less its biases and norms: the token and position
    /// embeddings and each layer's four attention projections and two MLP matrices. Loading
    /// compares it with the weight file before building (see ``ParameterLoader/ensureHolds(atLeast:for:)``).
    public var minimumParameterCount: Int {
        (vocabularySize + maxPositions) * hiddenSize + layerCount * (4 * hiddenSize * hiddenSize + 2 * hiddenSize * intermediateSize)
    }
}
