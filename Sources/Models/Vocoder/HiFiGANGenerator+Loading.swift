import Foundation
import Weights

extension HiFiGANGenerator {
    /// The weight files ``init(directory:)`` looks for, in order: a converted safetensors file,
    /// then the published `vocoder.pt`.
    public static let weightFileNames = ["vocoder.safetensors", "vocoder.pt"]

    /// Loads the vocoder of a model folder's `vocoder/` directory: `config.json` plus the first
    /// of ``weightFileNames`` that exists.
    ///
    /// Port of Auffusion `Generator.from_pretrained` (converter.py): `torch.load(vocoder.pt)
    /// ["generator"]`, `load_state_dict` (strict), `remove_weight_norm`.
    /// - Throws: ``VocoderError`` for the configuration or a folder without weights, and
    ///   `WeightsError` for the weight file (all missing, unexpected and mis-shaped keys at once).
    public init(directory: URL) throws {
        let configuration = try HiFiGANConfiguration(contentsOf: directory.appendingPathComponent("config.json"))
        guard let weights = ModelFolder.firstFile(named: Self.weightFileNames, in: directory) else {
            throw VocoderError.missingWeights(directory: directory.path, candidates: Self.weightFileNames)
        }
        try self.init(configuration: configuration, weights: weights)
    }

    /// Loads the generator of `configuration` from one weight file.
    ///
    /// A PyTorch checkpoint may hold the state dict itself or wrap it, as HiFi-GAN's training
    /// code does (`{"generator": state_dict, "steps": …, "epoch": …}`); with several candidate
    /// dictionaries, `"generator"` is taken, as the reference does. Safetensors files hold the
    /// state dict directly.
    /// - Throws: ``VocoderError/invalidConfiguration(reason:)`` or any `WeightsError`.
    public init(configuration: HiFiGANConfiguration, weights url: URL) throws {
        let store: any WeightStore
        do {
            store = try WeightFile.open(url)
        } catch WeightsError.ambiguousStateDict(_, let candidates) where candidates.contains(["generator"]) {
            store = try WeightFile.open(url, keyPath: ["generator"])
        }
        try self.init(configuration: configuration, store: store)
    }

    /// Loads the generator of `configuration` from a store holding its state dict, with
    /// weight-normalised (`weight_g`, `weight_v`) or folded (`weight`) keys (``WeightNorm/detect(in:)``).
    /// - Throws: ``VocoderError/invalidConfiguration(reason:)``, or
    ///   `WeightsError.keyMismatch` listing every missing, unexpected and mis-shaped key.
    public init(configuration: HiFiGANConfiguration, store: any WeightStore) throws {
        try configuration.validate()
        let loader = ParameterLoader(.store(store))
        try loader.ensureHolds(atLeast: configuration.minimumParameterCount, for: "HiFi-GAN generator")
        try self.init(configuration: configuration, parameters: loader.root, norm: WeightNorm.detect(in: store))
        try loader.finish()
    }
}
