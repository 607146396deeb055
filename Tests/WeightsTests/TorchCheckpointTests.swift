import Compute
import Foundation
import TestSupport
import Testing
import Weights

/// Checkpoints written by real `torch.save` (scripts/reference/weights_fixtures.py) read back
/// exactly: every key in order, its shape, its stored dtype and every value.
@Suite("TorchCheckpoint")
struct TorchCheckpointTests {
    static let files = ["plain.pt", "dtypes.pt", "views.pt", "nested.pt", "ambiguous.pt", "parameters.pt",
                        "protocol4.pt", "legacy.pt", "legacy_plain.pt", "zip64.pt"]

    @Test("reads every tensor of a torch.save file exactly", arguments: files)
    func readsEveryTensor(_ name: String) throws {
        let manifest = try WeightsManifest.load()
        let info = try #require(manifest.files[name])
        let checkpoint = try TorchCheckpoint(url: Fixtures.url("weights/\(name)"),
                                             keyPath: info.keyPath.isEmpty ? nil : info.keyPath)
        #expect(checkpoint.keys == info.keys)
        #expect(checkpoint.keyPath == info.keyPath)
        for key in info.keys {
            let expected = try #require(info.tensors[key])
            #expect(try checkpoint.shape(of: key) == expected.shape, "\(name) \(key)")
            #expect(try checkpoint.dtype(of: key).rawValue == expected.dtype, "\(name) \(key)")
            let tensor = try checkpoint.tensor(key)
            let golden = try Fixtures.tensor("weights/\(expected.expected)")
            #expect(tensor.shape == expected.shape)
            #expect(tensor.scalars == golden.scalars, "\(name) \(key): \(compare(tensor.scalars, golden.scalars))")
        }
    }

    @Test("non-contiguous views honour storage offset and strides")
    func views() throws {
        let checkpoint = try TorchCheckpoint(url: Fixtures.url("weights/views.pt"))
        let base = try checkpoint.tensor("base")  // arange(48).reshape(6, 8)
        let transposed = try checkpoint.tensor("transposed")
        #expect(transposed.shape == [8, 6])
        #expect(transposed[3, 2] == base[2, 3])
        let slice = try checkpoint.tensor("slice")  // base[1:4, 2:7]
        #expect(slice.shape == [3, 5] && slice[0, 0] == 10 && slice[2, 4] == 30)
        let expanded = try checkpoint.tensor("expanded")  // base[0:1, 0:3].expand(4, 3): stride 0
        #expect(expanded.scalars == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0, 1, 2])
        #expect(try checkpoint.tensor("offset_row").scalars == Array(40..<48).map(Float.init))
    }

    @Test("widens float16, bfloat16 and integer storages to Float32")
    func dtypes() throws {
        let checkpoint = try TorchCheckpoint(url: Fixtures.url("weights/dtypes.pt"))
        #expect(try checkpoint.dtype(of: "bf16") == .bfloat16)
        #expect(try checkpoint.dtype(of: "f16") == .float16)
        #expect(try checkpoint.tensor("i64").scalars == [0, 1, -2, 3, 1_099_511_627_776])
        #expect(try checkpoint.tensor("f16_special").scalars.prefix(2) == [65504, 0])
        #expect(try checkpoint.tensor("f16_special").scalars[3] == .infinity)
        #expect(try checkpoint.tensor("scalar").shape == [])
        #expect(try checkpoint.tensor("empty").shape == [0, 4])
        #expect(try checkpoint.tensor("bool").scalars == [1, 0, 1])
    }

    @Test("a nested checkpoint is navigable and its state dict found automatically")
    func nested() throws {
        let url = Fixtures.url("weights/nested.pt")
        let automatic = try TorchCheckpoint(url: url)
        let explicit = try TorchCheckpoint(url: url, keyPath: ["generator"])
        #expect(automatic.keyPath == ["generator"])
        #expect(automatic.keys == explicit.keys && !automatic.keys.isEmpty)
        #expect(try automatic.tensor("proj.weight") == explicit.tensor("proj.weight"))
        let root = automatic.root
        #expect(root["epoch"]?.intValue == 3)
        #expect(root["steps"]?.intValue == 2_500_000)
        #expect(root.value(at: ["config", "name"])?.stringValue == "hifigan")
        #expect(root.value(at: ["config", "lr"])?.doubleValue == 0.0002)
        #expect(root.value(at: ["config", "betas"])?.elements == [.float(0.8), .float(0.99)])
        #expect(root.value(at: ["config", "flags"]) == .list([.bool(true), .none]))
        if case .bigInt(let bytes) = root.value(at: ["config", "big"]) {
            #expect(bytes == [0, 0, 0, 0, 0, 0, 0, 0, 0x40])  // 2**70
        } else {
            Issue.record("config.big should be a big integer")
        }
        #expect(root["optim"]?["param_groups"]?.elements?.count == 1)
    }

    @Test("several candidate state dicts need a key path")
    func ambiguous() throws {
        let url = Fixtures.url("weights/ambiguous.pt")
        #expect(throws: WeightsError.ambiguousStateDict(path: url.path, candidates: [["generator"], ["discriminator"]])) {
            try TorchCheckpoint(url: url)
        }
        #expect(throws: WeightsError.stateDictNotFound(path: url.path, keyPath: ["critic"])) {
            try TorchCheckpoint(url: url, keyPath: ["critic"])
        }
    }

    @Test("a pickle that is not a state dict is reported as such")
    func notAStateDict() throws {
        let url = Fixtures.url("weights/not_a_state_dict.pt")
        #expect(throws: WeightsError.stateDictNotFound(path: url.path, keyPath: [])) { try TorchCheckpoint(url: url) }
    }

    @Test("deflate-compressed entries are refused with advice")
    func deflated() throws {
        let error = try #require(throws: WeightsError.self) {
            try TorchCheckpoint(url: Fixtures.url("weights/deflated.pt"))
        }
        guard case .unsupportedFormat(_, let reason) = error else { throw error }
        #expect(reason.contains("deflate") && reason.contains("torch.save"))
    }

    @Test("ZIP64 records read like the classic ones")
    func zip64() throws {
        let plain = try TorchCheckpoint(url: Fixtures.url("weights/plain.pt"))
        let zip64 = try TorchCheckpoint(url: Fixtures.url("weights/zip64.pt"))
        #expect(plain.keys == zip64.keys)
        for key in plain.keys { #expect(try plain.tensor(key) == zip64.tensor(key)) }
    }

    @Test("in-memory data reads like the mapped file")
    func inMemory() throws {
        for name in ["plain.pt", "legacy.pt"] {
            let mapped = try TorchCheckpoint(url: Fixtures.url("weights/\(name)"))
            let memory = try TorchCheckpoint(data: fixtureData(name), name: name)
            #expect(mapped.keys == memory.keys)
            for key in mapped.keys { #expect(try mapped.tensor(key) == memory.tensor(key)) }
        }
    }

    @Test("a missing file or key is reported")
    func missing() throws {
        let error = try #require(throws: WeightsError.self) {
            try TorchCheckpoint(url: URL(fileURLWithPath: "/nonexistent/model.bin"))
        }
        guard case .unreadable(let path, _) = error else { throw error }
        #expect(path == "/nonexistent/model.bin")
        let checkpoint = try TorchCheckpoint(url: Fixtures.url("weights/plain.pt"))
        #expect(throws: WeightsError.missingTensor(key: "nope")) { try checkpoint.tensor("nope") }
    }
}
