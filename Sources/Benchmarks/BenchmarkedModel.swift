import Compute
import Foundation
import Models
import SyntheticWeights

/// The networks `auffusion-bench` can time on synthetic weights.
public enum BenchmarkedModel: String, CaseIterable, Sendable {
    case unet, vaeDecode = "vae-decode", vaeEncode = "vae-encode", textEncoder = "text-encoder", vocoder

    /// Builds the network from the `config.json` at `config` on synthetic weights (no checkpoint
    /// is read) and returns one forward pass to time.
    /// - Parameters:
    ///   - batch: batch size.
    ///   - latent: the U-Net's and the VAE decoder's input size (32 × 128 is a 10.24 s clip); the
    ///     vocoder takes `width` as its frame count (1000 frames = 10 s).
    public func workload(config: URL, batch: Int, latent: (height: Int, width: Int)) throws -> () throws -> Void {
        let parameters = ParameterLoader(.synthetic).root
        let (height, width) = latent
        var random = TorchRandomSource(seed: 0)
        switch self {
        case .unet:
            let configuration = try ModelFolder.configuration(UNetConfiguration.self, in: config.deletingLastPathComponent(),
                                                              file: config.lastPathComponent)
            let unet = try UNet2DConditionModel(configuration: configuration, parameters: parameters)
            // An even batch is a guided step as the pipelines run it: the same latents in both
            // halves, the unconditional and the conditional text.
            let half = random.normal(shape: [batch % 2 == 0 ? batch / 2 : batch, configuration.inChannels, height, width])
            let latents = batch % 2 == 0 ? Tensor.concatenated([half, half], axis: 0) : half
            let context = random.normal(shape: [batch, 77, configuration.crossAttentionDimension])
            let timesteps = [Float](repeating: 981, count: batch)
            return { _ = try unet(latents, timesteps: timesteps, context: context) }
        case .vaeDecode, .vaeEncode:
            let configuration = try AutoencoderConfiguration(contentsOf: config)
            let vae = try AutoencoderKL(configuration: configuration, parameters: parameters)
            let factor = 1 << (configuration.blockOutChannels.count - 1)
            if self == .vaeDecode {
                let latents = random.normal(shape: [batch, configuration.latentChannels, height, width])
                return { _ = try vae.decode(latents) }
            }
            let image = random.normal(shape: [batch, configuration.inChannels, height * factor, width * factor])
            return { _ = try vae.encode(image) }
        case .textEncoder:
            let configuration = try CLIPTextConfiguration(contentsOf: config)
            let encoder = CLIPTextModel(configuration: configuration, parameters: parameters)
            let ids = [[Int]](repeating: (0..<77).map { ($0 * 7919) % configuration.vocabularySize }, count: batch)
            return { _ = try encoder(ids) }
        case .vocoder:
            let configuration = try HiFiGANConfiguration(contentsOf: config)
            let generator = try HiFiGANGenerator(configuration: configuration, parameters: parameters, norm: .folded)
            let logMel = random.normal(shape: [batch, configuration.melBinCount, width]) * 2 + -5
            return { _ = try generator(logMel) }
        }
    }
}
