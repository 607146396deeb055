import Compute
import Foundation
import Models
import SyntheticWeights
import Testing
import TestSupport
import Weights

@Suite("AutoencoderKL configuration, posterior and loading errors")
struct AutoencoderTests {
    private func configuration(_ json: String) throws -> AutoencoderConfiguration {
        try JSONDecoder().decode(AutoencoderConfiguration.self, from: Data(json.utf8))
    }

    @Test("absent keys take diffusers' defaults; unknown keys are ignored; sample_size may be a list")
    func configurationDefaults() throws {
        let empty = try configuration(#"{"_class_name": "AutoencoderKL", "_diffusers_version": "0.18.2", "force_upcast": true}"#)
        #expect(empty == AutoencoderConfiguration())
        #expect(empty.blockOutChannels == [64] && empty.layersPerBlock == 1 && empty.normGroups == 32)
        #expect(empty.scalingFactor == 0.18215 && empty.downsamplingFactor == 1)
        let listed = try configuration(#"{"sample_size": [256, 1024], "scaling_factor": 0.13025}"#)
        #expect(listed.sampleSize == [256, 1024] && listed.scalingFactor == 0.13025)
        #expect(AutoencoderConfiguration.stableDiffusion.downsamplingFactor == 8)
        let reread = try JSONDecoder().decode(AutoencoderConfiguration.self,
                                              from: JSONEncoder().encode(AutoencoderConfiguration.stableDiffusion))
        #expect(reread == .stableDiffusion)
    }

    @Test("unsupported configurations are refused before any weight is read",
          arguments: [#"{"act_fn": "gelu"}"#,
                      #"{"down_block_types": ["AttnDownEncoderBlock2D"]}"#,
                      #"{"block_out_channels": [64, 128], "up_block_types": ["UpDecoderBlock2D"]}"#,
                      #"{"block_out_channels": [48], "norm_num_groups": 32}"#])
    func unsupported(_ json: String) throws {
        let loader = ParameterLoader(.synthetic)
        #expect(throws: ModelError.self) { try AutoencoderKL(configuration: try configuration(json), parameters: loader.root) }
    }

    @Test("an unreadable config.json is a configuration error naming the file")
    func unreadableConfiguration() throws {
        let folder = try Fixtures.temporaryDirectory()
        try Data(#"{"block_out_channels": "wide"}"#.utf8).write(to: folder.appendingPathComponent("config.json"))
        #expect { try AutoencoderKL(folder: folder) } throws: { error in
            guard case ModelError.unreadableConfiguration(let path, _) = error else { return false }
            return path.hasSuffix("config.json")
        }
    }

    @Test("the posterior clamps the log-variance to [−30, 20] and samples mean + std · randn")
    func posterior() throws {
        // moments [1, 2, 1, 3]: means, then log-variances
        let moments = Tensor(shape: [1, 2, 1, 3], scalars: [0.5, -1, 2, -40, 0, 25])
        let posterior = DiagonalGaussian(moments: moments)
        #expect(posterior.mean.shape == [1, 1, 1, 3] && posterior.mode() == posterior.mean)
        #expect(posterior.logVariance.scalars == [-30, 0, 20])
        #expect(posterior.standardDeviation.scalars == [exp(Float(-15)), 1, exp(Float(10))])
        var random = TorchRandomSource(seed: 3), same = TorchRandomSource(seed: 3)
        let noise = same.normal(shape: [1, 1, 1, 3])
        let sample = posterior.sample(using: &random)
        for index in 0..<3 {
            #expect(sample.scalars[index] == posterior.mean.scalars[index] + posterior.standardDeviation.scalars[index] * noise.scalars[index])
        }
    }

    @Test("inputs of the wrong shape are refused with a message")
    func invalidInputs() throws {
        let loader = ParameterLoader(.synthetic)
        var tiny = AutoencoderConfiguration()
        (tiny.blockOutChannels, tiny.normGroups) = ([8, 8], 4)
        (tiny.downBlockTypes, tiny.upBlockTypes) = (["DownEncoderBlock2D", "DownEncoderBlock2D"], ["UpDecoderBlock2D", "UpDecoderBlock2D"])
        let vae = try AutoencoderKL(configuration: tiny, parameters: loader.root)
        #expect(throws: ModelError.self) { try vae.encode(.zeros([1, 3, 8, 9])) }    // width not a multiple of 2
        #expect(throws: ModelError.self) { try vae.encode(.zeros([1, 1, 8, 8])) }    // one channel
        #expect(throws: ModelError.self) { try vae.decode(.zeros([1, 3, 4, 4])) }    // three latent channels
        #expect(try vae.decode(.zeros([2, 4, 3, 5])).shape == [2, 3, 6, 10])
    }

    @Test("a missing key, a mis-shaped key and a stray key are all named in one error")
    func keyMismatch() throws {
        let source = Fixtures.url("vae/tiny_a")
        let store = try WeightFile.open(source.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        var tensors: [String: Tensor] = [:]
        for key in store.keys where key != "encoder.conv_in.bias" { tensors[key] = try store.tensor(key) }
        tensors["decoder.conv_out.weight"] = .zeros([4, 16, 3, 3])     // the model needs [3, 16, 3, 3]
        tensors["decoder.extra.weight"] = .zeros([2])
        let folder = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: folder.appendingPathComponent("config.json"))
        try Safetensors.write(tensors, to: folder.appendingPathComponent("diffusion_pytorch_model.safetensors"))
        #expect(throws: WeightsError.keyMismatch(
            missing: ["encoder.conv_in.bias"], unexpected: ["decoder.extra.weight"],
            misShaped: [ShapeMismatch(key: "decoder.conv_out.weight", expected: [3, 16, 3, 3], actual: [4, 16, 3, 3])])) {
            try AutoencoderKL(folder: folder)
        }
    }

    @Test("a folder without weights names every file it looked for")
    func noWeights() throws {
        let folder = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(at: Fixtures.url("vae/tiny_a/config.json"), to: folder.appendingPathComponent("config.json"))
        #expect { try AutoencoderKL(folder: folder, variant: "fp16") } throws: { error in
            guard case WeightsError.unreadable(_, let reason) = error else { return false }
            return reason.contains("diffusion_pytorch_model.fp16.safetensors") && reason.contains("diffusion_pytorch_model.fp16.bin")
        }
    }
}
