import Compute
import Foundation
import TestSupport
import Testing
import Weights

/// `WeightStore` views (prefix scoping, renaming, shards), reader selection and key validation.
@Suite("WeightStore")
struct WeightStoreTests {
    static func plain() throws -> TorchCheckpoint {
        try TorchCheckpoint(url: Fixtures.url("weights/plain.pt"))
    }

    @Test("scoped(prefix:) shows one submodule without its prefix")
    func scoped() throws {
        let store = try Self.plain()
        let proj = store.scoped(prefix: "proj.")
        #expect(proj.keys == ["weight", "bias"])
        #expect(try proj.tensor("weight") == store.tensor("proj.weight"))
        #expect(try proj.shape(of: "bias") == [4])
        #expect(throws: WeightsError.missingTensor(key: "gamma")) { try proj.tensor("gamma") }
        #expect(proj.contains("weight") && !proj.contains("norm.weight"))
    }

    @Test("KeyRules rename once, in order, and may drop keys")
    func keyRules() throws {
        let rules: KeyRules = [.dropPrefix("model."), .replace(".attn.", ".attention."), .addPrefix("unet."),
                               .skip(prefix: "unet.loss.")]
        #expect(rules.apply(to: "model.block.attn.q.weight") == "unet.block.attention.q.weight")
        #expect(rules.apply(to: "block.attn.attn.k") == "unet.block.attention.attn.k")
        #expect(rules.apply(to: "model.loss.scale") == nil)

        let renamed = try Self.plain().renamed(by: [.replace("proj.", "linear."), .skip(prefix: "position_ids")])
        #expect(renamed.keys.contains("linear.weight") && !renamed.keys.contains("proj.weight"))
        #expect(!renamed.contains("position_ids"))
        #expect(try renamed.tensor("linear.bias") == Self.plain().tensor("proj.bias"))
        #expect(throws: WeightsError.duplicateKey(key: "x", sources: ["proj.weight", "proj.bias"])) {
            try Self.plain().renamed(by: [.replace("proj.weight", "x"), .replace("proj.bias", "x")])
        }
    }

    @Test("validate lists every missing, unexpected and mis-shaped key at once")
    func validate() throws {
        let store = try Self.plain()
        var expected: [String: [Int]] = [:]
        for key in store.keys { expected[key] = try store.shape(of: key) }
        try store.validate(expected: expected)

        expected["proj.weight"] = [3, 4]
        expected["norm.bias"] = [5]
        expected["extra.weight"] = [1]
        expected["another.weight"] = [2]
        expected["position_ids"] = nil
        expected["conv.bias"] = nil
        let error = try #require(throws: WeightsError.self) { try store.validate(expected: expected) }
        #expect(error == .keyMismatch(
            missing: ["another.weight", "extra.weight"],
            unexpected: ["conv.bias", "position_ids"],
            misShaped: [ShapeMismatch(key: "norm.bias", expected: [5], actual: [4]),
                        ShapeMismatch(key: "proj.weight", expected: [3, 4], actual: [4, 3])]))
        for name in ["another.weight", "extra.weight", "conv.bias", "position_ids", "norm.bias", "proj.weight"] {
            #expect(error.description.contains(name))
        }
        let tolerant = try #require(throws: WeightsError.self) {
            try store.validate(expected: expected, allowingUnexpected: true)
        }
        guard case .keyMismatch(_, let unexpected, _) = tolerant else { throw tolerant }
        #expect(unexpected.isEmpty)
    }

    @Test("tensor(_:shape:) checks the shape")
    func checkedShape() throws {
        let store = try Self.plain()
        #expect(try store.tensor("proj.weight", shape: [4, 3]).shape == [4, 3])
        #expect(throws: WeightsError.unexpectedShape(key: "proj.weight", expected: [3, 4], actual: [4, 3])) {
            try store.tensor("proj.weight", shape: [3, 4])
        }
    }

    @Test("a sharded safetensors checkpoint opens through its index")
    func shards() throws {
        let manifest = try WeightsManifest.load()
        let info = try #require(manifest.files["shards.safetensors.index.json"])
        let store = try WeightFile.open(Fixtures.url("weights/shards.safetensors.index.json"))
        #expect(store is ShardedWeightStore)
        #expect(Set(store.keys) == Set(info.keys))
        let plain = try Self.plain()
        for key in info.keys { #expect(try store.tensor(key) == plain.tensor(key)) }
        let shard = try Safetensors(url: Fixtures.url("weights/shard-00001-of-00002.safetensors"))
        #expect(throws: WeightsError.duplicateKey(key: shard.keys[0], sources: ["a", "b"])) {
            try ShardedWeightStore([shard, shard], names: ["a", "b"])
        }
    }

    @Test("open picks the reader from the content, whatever the extension")
    func openByContent() throws {
        #expect(try WeightFile.open(Fixtures.url("weights/plain.pt")) is TorchCheckpoint)
        #expect(try WeightFile.open(Fixtures.url("weights/legacy.pt")) is TorchCheckpoint)
        #expect(try WeightFile.open(Fixtures.url("weights/mixed.safetensors")) is Safetensors)
        #expect(try WeightFile.open(Fixtures.url("weights/nested.pt"), keyPath: ["generator"]).keys.count == 7)

        let folder = try Fixtures.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let disguised = folder.appendingPathComponent("weights.bin")
        try FileManager.default.copyItem(at: Fixtures.url("weights/mixed.safetensors"), to: disguised)
        #expect(try WeightFile.format(of: disguised) == .safetensors)
        // A header of 128 + 256k bytes makes the file start with 0x80, like a pickle.
        let header = #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#
        let padded = header + String(repeating: " ", count: 384 - header.utf8.count)
        let tricky = folder.appendingPathComponent("tricky.bin")
        try safetensorsFile(header: padded, data: [0, 0, 0x80, 0x3F]).write(to: tricky)
        #expect(try WeightFile.format(of: tricky) == .safetensors)
        #expect(try WeightFile.open(tricky).tensor("a").scalars == [1])
        let text = folder.appendingPathComponent("notes.txt")
        try Data("not weights".utf8).write(to: text)
        let error = try #require(throws: WeightsError.self) { try WeightFile.open(text) }
        guard case .corrupt = error else { throw error }
        let empty = folder.appendingPathComponent("empty.safetensors")
        try Data().write(to: empty)
        #expect(throws: WeightsError.self) { try WeightFile.open(empty) }
    }

    @Test("stores are Sendable and read concurrently")
    func concurrentReads() async throws {
        let store = try Self.plain()
        let expected = try store.tensor("conv.weight")
        try await withThrowingTaskGroup(of: Tensor.self) { group in
            for _ in 0..<8 { group.addTask { try store.tensor("conv.weight") } }
            for try await tensor in group { #expect(tensor == expected) }
        }
    }
}
