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

    /// Loads `config.json` and the first of ``weightFileNames`` present in `folder`.
    /// - Throws: ``TextEncoderError`` for a missing or invalid configuration or no weight file;
    ///   `WeightsError` for an unreadable weight file, or one whose keys or shapes do not match
    ///   the configuration (every mismatch listed at once; `text_model.embeddings.position_ids`
    ///   may be present or not).
    public init(contentsOf folder: URL) throws {
        let configuration = try CLIPTextConfiguration(contentsOf: folder.appendingPathComponent("config.json"))
        guard let weights = ModelFolder.firstFile(named: Self.weightFileNames, in: folder) else {
            throw TextEncoderError.missingFile(path: folder.path, expected: Self.weightFileNames)
        }
        let loader = ParameterLoader(.store(try WeightFile.open(weights)))
        try loader.ensureHolds(atLeast: configuration.minimumParameterCount, for: "CLIPTextModel")
        self.init(configuration: configuration, parameters: loader.root)
        try loader.finish(ignoring: ["text_model.embeddings.position_ids"])
    }
}
