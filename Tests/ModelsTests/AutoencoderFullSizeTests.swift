import Compute
import Foundation
import Models
import SyntheticWeights
import Testing
import TestSupport

@Suite("AutoencoderKL full size (Stable Diffusion VAE, synthetic weights, 256 × 1024)")
struct AutoencoderFullSizeTests {
    @Test("decode [1,4,32,128] → [1,3,256,1024] and encode back, within NMSE 1e-6 of diffusers")
    func fullSize() throws {
        let c = try AutoencoderCase.named("full")
        let configuration = try AutoencoderConfiguration(contentsOf: c.folderURL.appendingPathComponent("config.json"))
        #expect(configuration == .stableDiffusion)
        let loader = ParameterLoader(.synthetic)
        let vae = try AutoencoderKL(configuration: configuration, parameters: loader.root)
        try loader.finish()

        let (latents, image) = (c.latentInput(), c.imageInput())
        let clock = ContinuousClock()
        var decoded = Tensor.zeros([])
        let decodeTime = try clock.measure { decoded = try vae.decode(latents) }
        var posterior: DiagonalGaussian?
        let encodeTime = try clock.measure { posterior = try vae.encode(image) }
        print("vae full size: decode \(decodeTime), encode \(encodeTime) (\(ComputeThreads.count) threads)")

        let encoded = try #require(posterior)
        var random = TorchRandomSource(seed: c.sampleSeed)
        // The fixture keeps every 4th image row (scripts/reference/vae_fixtures.py FULL_DECODED_ROW_STRIDE).
        let rows = stride(from: 0, to: decoded.shape[2], by: 4).map { decoded.sliced(axis: 2, $0..<$0 + 1) }
        let outputs = AutoencoderOutputs(tensors: ["mean": encoded.mean, "logvar": encoded.logVariance,
                                                   "sample": encoded.sample(using: &random),
                                                   "decoded": Tensor.concatenated(rows, axis: 2)])
        try outputs.expectMatches(c)
    }
}
