import Compute
import Foundation
import Models
import SyntheticWeights
import Testing
import TestSupport
import Weights

/// The text-encoder fixtures in `Tests/Fixtures/clip/` (scripts/reference/clip_fixtures.py).
extension CLIPFixtures {
    /// `text_models.json`: the tiny text encoders and what they must output.
    struct TextModel: Decodable, Sendable, CustomTestStringConvertible {
        struct Check: Decodable, Sendable { let weights: String; let output: String; let nmse: Double }
        struct Unpadded: Decodable, Sendable { let inputs: [[Int]]; let output: String; let nmse: Double }
        let folder: String
        let inputs: [[Int]]
        let checks: [Check]
        let unpadded: Unpadded?
        var testDescription: String { folder }
    }

    /// `clip_large_synthetic.json`: CLIP-L's text tower with synthetic weights on one prompt.
    struct SyntheticLarge: Decodable {
        let prompt: String
        let ids: [Int]
        let config: CLIPTextConfiguration
        let nmse: Double
    }
}

/// CLIPTextModel against transformers 4.30.2 `CLIPTextModel(ids).last_hidden_state` in float32,
/// compared by NMSE (`Σ(a−b)² / Σb²`) over the whole output. Weight files are the ones
/// transformers writes and reads: `pytorch_model.bin` (torch.save, fp32) and `model.safetensors`
/// (fp32 for one model, fp16 for the other). Tolerances come with each fixture: 1e-8 where both
/// sides use the same fp32 weights; 1e-6 for the fp16 file, whose weights both sides widen from
/// the same fp16 values (so only summation order differs there too, and the bound is loose).
@Suite("CLIPTextModel against transformers (scripts/reference/clip_fixtures.py)")
struct CLIPTextModelTests {
    private static func models() throws -> [CLIPFixtures.TextModel] {
        try Fixtures.cases(CLIPFixtures.TextModel.self, "clip/text_models.json")
    }

    private func model(_ folder: URL, weights: String) throws -> CLIPTextModel {
        let configuration = try CLIPTextConfiguration(contentsOf: folder.appendingPathComponent("config.json"))
        let loader = ParameterLoader(.store(try WeightFile.open(folder.appendingPathComponent(weights))))
        let model = CLIPTextModel(configuration: configuration, parameters: loader.root)
        try loader.finish(ignoring: ["text_model.embeddings.position_ids"])
        return model
    }

    @Test("last_hidden_state of the tiny models, from each weight file", arguments: try models())
    func parity(_ fixture: CLIPFixtures.TextModel) throws {
        let folder = Fixtures.url("clip/\(fixture.folder)")
        #expect(fixture.inputs.allSatisfy { $0.count == 77 })
        for check in fixture.checks {
            let output = try model(folder, weights: check.weights)(fixture.inputs)
            let discrepancy = compare(output, try Fixtures.tensor("clip/\(check.output)"))
            #expect(discrepancy.nmse <= check.nmse, "\(fixture.folder)/\(check.weights): \(discrepancy)")
        }
        if let unpadded = fixture.unpadded {
            let output = try model(folder, weights: "pytorch_model.bin")(unpadded.inputs)
            let discrepancy = compare(output, try Fixtures.tensor("clip/\(unpadded.output)"))
            #expect(output.shape == [1, unpadded.inputs[0].count, 32])
            #expect(discrepancy.nmse <= unpadded.nmse, "\(fixture.folder) unpadded: \(discrepancy)")
        }
    }

    @Test("loading a folder picks model.safetensors, reads config.json and ignores position_ids", arguments: try models())
    func folderLoading(_ fixture: CLIPFixtures.TextModel) throws {
        let encoder = try CLIPTextModel(contentsOf: Fixtures.url("clip/\(fixture.folder)"))
        let check = try #require(fixture.checks.first { $0.weights == "model.safetensors" })
        let discrepancy = compare(try encoder(fixture.inputs), try Fixtures.tensor("clip/\(check.output)"))
        #expect(discrepancy.nmse <= check.nmse, "\(fixture.folder): \(discrepancy)")
    }

    /// transformers 5 saves `CLIPTextModel` without its inner `text_model` level and without the
    /// `position_ids` buffer; transformers 4 (the fixture files, every published folder) with both.
    @Test("both key spellings load to the same output: transformers 4's text_model.… and transformers 5's flat keys",
          arguments: [true, false])
    func keySpellings(prefixed: Bool) throws {
        let source = Fixtures.url("clip/text_quick_gelu")
        let fixture = try #require(try Self.models().first { $0.folder == "text_quick_gelu" })
        let check = try #require(fixture.checks.first { $0.weights == "model.safetensors" })
        let store = try WeightFile.open(source.appendingPathComponent("model.safetensors"))
        #expect(store.keys.allSatisfy { $0.hasPrefix("text_model.") })
        var tensors: [String: Tensor] = [:]
        for key in store.keys where key != "text_model.embeddings.position_ids" {
            tensors[prefixed ? key : String(key.dropFirst("text_model.".count))] = try store.tensor(key)
        }
        let folder = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(at: source.appendingPathComponent("config.json"), to: folder.appendingPathComponent("config.json"))
        try Safetensors.write(tensors, to: folder.appendingPathComponent("model.safetensors"))
        let encoder = try CLIPTextModel(contentsOf: folder)
        let discrepancy = compare(try encoder(fixture.inputs), try Fixtures.tensor("clip/\(check.output)"))
        #expect(discrepancy.nmse <= check.nmse, "\(discrepancy)")
    }

    @Test("CLIP-L's text tower at full size (synthetic weights) on a tokenized prompt")
    func fullSizeSynthetic() throws {
        let fixture = try Fixtures.json(CLIPFixtures.SyntheticLarge.self, "clip/clip_large_synthetic.json")
        #expect(fixture.config == .clipViTLargePatch14)
        #expect(try CLIPFixtures.tokenizer().encode(fixture.prompt).ids == fixture.ids)
        let loader = ParameterLoader(.synthetic)
        let encoder = CLIPTextModel(configuration: fixture.config, parameters: loader.root)
        let discrepancy = compare(try encoder([fixture.ids]), try Fixtures.tensor("clip/clip_large_synthetic.npy"))
        #expect(discrepancy.nmse <= fixture.nmse, "\(discrepancy)")
    }

    @Test("config.json: transformers' defaults for absent keys, an error for an unknown activation")
    func configuration() throws {
        let defaults = try JSONDecoder().decode(CLIPTextConfiguration.self, from: Data("{}".utf8))
        #expect(defaults == CLIPTextConfiguration(vocabularySize: 49408, hiddenSize: 512, intermediateSize: 2048,
                                                  layerCount: 12, headCount: 8, maxPositions: 77,
                                                  activation: .quickGELU, layerNormEpsilon: 1e-5))
        let folder = try Fixtures.temporaryDirectory()
        let url = folder.appendingPathComponent("config.json")
        try Data(#"{"hidden_act": "gelu_new"}"#.utf8).write(to: url)
        #expect(throws: TextEncoderError.unsupportedActivation("gelu_new")) { try CLIPTextConfiguration(contentsOf: url) }
        try Data(#"{"hidden_size": 30, "num_attention_heads": 4}"#.utf8).write(to: url)
        #expect(throws: TextEncoderError.self) { try CLIPTextConfiguration(contentsOf: url) }
        let absent = folder.appendingPathComponent("absent")
        #expect(throws: TextEncoderError.missingFile(path: absent.appendingPathComponent("config.json").path,
                                                     expected: ["config.json"])) {
            try CLIPTextModel(contentsOf: absent)
        }
    }

    @Test("a folder without weights, or with weights of another shape, is refused with every problem named")
    func loadingErrors() throws {
        let folder = try Fixtures.temporaryDirectory()
        let config = Fixtures.url("clip/text_quick_gelu/config.json")
        try FileManager.default.copyItem(at: config, to: folder.appendingPathComponent("config.json"))
        #expect(throws: TextEncoderError.missingFile(path: folder.path, expected: CLIPTextModel.weightFileNames)) {
            try CLIPTextModel(contentsOf: folder)
        }
        try FileManager.default.copyItem(at: Fixtures.url("clip/text_gelu/pytorch_model.bin"),
                                         to: folder.appendingPathComponent("pytorch_model.bin"))
        do {
            _ = try CLIPTextModel(contentsOf: folder)
            Issue.record("a 48-wide checkpoint loaded into a 32-wide model")
        } catch WeightsError.keyMismatch(let missing, let unexpected, let misShaped) {
            #expect(missing.isEmpty && unexpected.contains("text_model.encoder.layers.2.mlp.fc1.bias"))
            #expect(misShaped.contains { $0.key == "text_model.embeddings.token_embedding.weight" })
        }
    }

    @Test("token ids the encoder cannot take are errors, not crashes")
    func invalidTokens() throws {
        let encoder = try CLIPTextModel(contentsOf: Fixtures.url("clip/text_quick_gelu"))
        for ids in [[[Int]](), [[1, 2], [3]], [Array(repeating: 1, count: 78)], [[1, 1000]], [[-1]]] {
            #expect(throws: TextEncoderError.self, "\(ids.map(\.count))") { try encoder(ids) }
        }
    }
}
