import Foundation
import Weights

/// Loading a CLIP text encoder from its folder (diffusers' `text_encoder/`, Auffusion's `text_encoder_N/`).
extension CLIPTextModel {
    /// The weight files looked for, in this order: transformers' safetensors and PyTorch names,
    /// their sharded indexes, then the `fp16` variants (float16 weights are widened to Float32).
    public static let weightFileNames = [
        "model.safetensors", "pytorch_model.bin", "model.safetensors.index.json", "pytorch_model.bin.index.json",
        "model.fp16.safetensors", "pytorch_model.fp16.bin",
    ]

    /// Loads `config.json` and the first of ``weightFileNames`` present in `folder`, written by
    /// transformers 4 or 5 (``keyRules(for:)``).
    /// - Throws: ``TextEncoderError`` for a missing or invalid configuration or no weight file;
    ///   `WeightsError` for an unreadable weight file, or one whose keys or shapes do not match
    ///   the configuration (every mismatch listed at once; `text_model.embeddings.position_ids`
    ///   may be present or not).
    public init(contentsOf folder: URL) throws {
        let configuration = try CLIPTextConfiguration(contentsOf: folder.appendingPathComponent("config.json"))
        guard let weights = ModelFolder.firstFile(named: Self.weightFileNames, in: folder) else {
            throw TextEncoderError.missingFile(path: folder.path, expected: Self.weightFileNames)
        }
        let store = try WeightFile.open(weights)
        let loader = ParameterLoader(.store(try store.renamed(by: Self.keyRules(for: store))))
        try loader.ensureHolds(atLeast: configuration.minimumParameterCount, for: "CLIPTextModel")
        self.init(configuration: configuration, parameters: loader.root)
        try loader.finish(ignoring: ["text_model.embeddings.position_ids"])
    }

    /// The renames that bring a file's keys to this model's (transformers 4) names. transformers 4
    /// (and every published Stable Diffusion or Auffusion folder) saves `CLIPTextModel` with its
    /// inner `text_model` module, so keys read `text_model.encoder.layers.0.…`; transformers 5
    /// removed that level and saves `encoder.layers.0.…`. A file with no `text_model.` key gets
    /// the prefix; transformers 5 loads both spellings the same way.
    public static func keyRules(for store: any WeightStore) -> KeyRules {
        store.keys.contains { $0.hasPrefix("text_model.") } ? [] : [.addPrefix("text_model.")]
    }
}
