import Foundation
import Weights

extension AutoencoderKL {
    /// The renames from checkpoint keys to this model's keys, in one place (docs/reference.md §5.3).
    ///
    /// Checkpoints saved before diffusers 0.14 name the mid-block attention projections
    /// `query`, `key`, `value` and `proj_attn`; diffusers renames them at load in
    /// `ModelMixin._convert_deprecated_attention_blocks` (models/modeling_utils.py), and so do
    /// these rules. Such weights may also be stored as 1×1 convolutions (`[C, C, 1, 1]`), which
    /// ``ParameterLoader`` accepts for a `[C, C]` linear weight. A checkpoint holding both names
    /// for one tensor is refused (`WeightsError.duplicateKey`).
    public static let keyRules: KeyRules = [
        .replace("mid_block.attentions.0.query.", "mid_block.attentions.0.to_q."),
        .replace("mid_block.attentions.0.key.", "mid_block.attentions.0.to_k."),
        .replace("mid_block.attentions.0.value.", "mid_block.attentions.0.to_v."),
        .replace("mid_block.attentions.0.proj_attn.", "mid_block.attentions.0.to_out.0."),
    ]

    /// Loads a VAE folder in the diffusers layout (a model's `vae/`): `config.json` and the
    /// first of the weight files ``weightFileNames(variant:)`` lists that exists.
    ///
    /// - Parameters:
    ///   - folder: the folder holding `config.json`, e.g. `auffusion-full/vae`.
    ///   - variant: a weight variant such as `"fp16"` (`diffusion_pytorch_model.fp16.safetensors`);
    ///     `nil` takes the full-precision files, then the `fp16` ones if those are all there is.
    ///     Half-precision weights are widened to Float32; the model always computes in Float32.
    /// - Throws: ``ModelError/unreadableConfiguration(path:reason:)``,
    ///   ``ModelError/unsupportedConfiguration(model:reason:)``, `WeightsError.unreadable` when no
    ///   weight file exists, any reader error, and `WeightsError.keyMismatch` listing every
    ///   missing, unexpected and mis-shaped key at once.
    public init(folder: URL, variant: String? = nil) throws {
        let configuration = try AutoencoderConfiguration(contentsOf: folder.appendingPathComponent("config.json"))
        let names = Self.weightFileNames(variant: variant)
        guard let file = ModelFolder.firstFile(named: names, in: folder) else {
            throw WeightsError.unreadable(path: folder.path, reason: "no VAE weights: looked for \(names.joined(separator: ", "))")
        }
        let loader = ParameterLoader(.store(try WeightFile.open(file).renamed(by: Self.keyRules)))
        try loader.ensureHolds(atLeast: configuration.minimumParameterCount, for: "AutoencoderKL")
        try self.init(configuration: configuration, parameters: loader.root)
        try loader.finish()
    }

    /// The weight file names looked for, in order: safetensors before PyTorch pickles, and without
    /// a `variant`, full precision before `fp16`.
    public static func weightFileNames(variant: String?) -> [String] {
        ModelFolder.diffusersWeightNames(variant: variant).filter { !$0.hasSuffix(".index.json") }
    }
}
