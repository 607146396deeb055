import Compute
import Foundation

/// The shape of a ``ConditionAdapter``: a mirror of `condition_adapter_N/config.json`.
///
/// Auffusion writes the condition's entry of `condition_config.json` there (docs/reference.md §3.3; e.g.
/// `config/clip_condition_config.json` in the Auffusion repository): `text_encoder_name`,
/// `condition_adapter_name`, `condition_type`, `pretrained_model_name_or_path`,
/// `condition_max_length`, `condition_dim`, `cross_attention_dim`. The adapter reads only the two
/// widths, and both are required (auffusion_pipeline.py indexes them without a default).
public struct ConditionAdapterConfiguration: Codable, Sendable, Equatable {
    /// Width of the text encoder's embeddings, the adapter's input (768 for CLIP-L).
    public var conditionDimension: Int
    /// Width the U-Net's cross-attention expects, the adapter's output (768).
    public var crossAttentionDimension: Int

    enum CodingKeys: String, CodingKey {
        case conditionDimension = "condition_dim"
        case crossAttentionDimension = "cross_attention_dim"
    }

    public init(conditionDimension: Int, crossAttentionDimension: Int) {
        self.conditionDimension = conditionDimension
        self.crossAttentionDimension = crossAttentionDimension
    }

    /// Reads and checks a `config.json`.
    /// - Throws: ``TextEncoderError`` when the file is missing, unreadable, lacks a width, or
    ///   gives a width outside 1...8192.
    public init(contentsOf url: URL) throws {
        self = try ConfigurationFile.decode(Self.self, at: url, expected: "a condition adapter configuration")
        func fail(_ reason: String) -> TextEncoderError { .corrupt(path: url.path, reason: reason) }
        try FieldBounds.check("condition_dim", conditionDimension, in: 1...8192, else: fail)
        try FieldBounds.check("cross_attention_dim", crossAttentionDimension, in: 1...8192, else: fail)
    }
}
