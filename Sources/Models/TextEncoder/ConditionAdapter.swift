import Compute
import Foundation
import Weights

/// Auffusion's condition adapter: maps text-encoder embeddings to the width of the U-Net's
/// cross-attention.
///
/// Port of Auffusion auffusion_pipeline.py `ConditionAdapter`: `norm(proj(x))`, a `Linear`
/// (`condition_dim → cross_attention_dim`, with bias) then a `LayerNorm` over
/// `cross_attention_dim` with PyTorch's default ε = 1e-5 (docs/reference.md §3.3). AuffusionPipeline applies
/// it to the text encoder's output zero-padded to 77 rows, so padded rows come out as the
/// constant `LayerNorm(proj.bias)`.
/// Keys (`condition_adapter.pt`, a `torch.save`d state dict): `proj.weight [C′, C]`, `proj.bias [C′]`,
/// `norm.weight [C′]`, `norm.bias [C′]`.
///
/// ```swift
/// let adapter = try ConditionAdapter(contentsOf: folder.appending(path: "condition_adapter_0"))
/// let conditioning = adapter(paddedEmbeddings)   // [1, 77, 768] -> [1, 77, 768]
/// ```
public struct ConditionAdapter: Sendable {
    /// The LayerNorm's ε: `torch.nn.LayerNorm`'s default, which the reference does not change.
    public static let layerNormEpsilon: Float = 1e-5

    public let configuration: ConditionAdapterConfiguration
    let projection: Linear
    let norm: LayerNorm

    /// Builds the adapter from `parameters` (keys `proj.*`, `norm.*`).
    public init(configuration: ConditionAdapterConfiguration, parameters: Parameters) {
        self.configuration = configuration
        projection = Linear(parameters["proj"], inputs: configuration.conditionDimension,
                            outputs: configuration.crossAttentionDimension)
        norm = LayerNorm(parameters["norm"], width: configuration.crossAttentionDimension, epsilon: Self.layerNormEpsilon)
    }

    /// Loads `config.json` and `condition_adapter.pt` from `folder` (`ConditionAdapter.from_pretrained`).
    /// - Throws: ``TextEncoderError`` for a missing or invalid file; `WeightsError` for an
    ///   unreadable checkpoint or one whose keys or shapes do not match (all listed at once).
    public init(contentsOf folder: URL) throws {
        let configuration = try ConditionAdapterConfiguration(contentsOf: folder.appendingPathComponent("config.json"))
        let weights = folder.appendingPathComponent("condition_adapter.pt")
        guard FileManager.default.fileExists(atPath: weights.path) else {
            throw TextEncoderError.missingFile(path: weights.path, expected: [weights.lastPathComponent])
        }
        let loader = ParameterLoader(.store(try WeightFile.open(weights)))
        self.init(configuration: configuration, parameters: loader.root)
        try loader.finish()
    }

    /// `[B, N, condition_dim] → [B, N, cross_attention_dim]`.
    public func callAsFunction(_ embeddings: Tensor) -> Tensor {
        norm(projection(embeddings))
    }
}
