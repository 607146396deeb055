import Foundation
import TestSupport
import Testing
import Weights

/// The restricted unpickler refuses every global and opcode outside its allow-list, never runs
/// code, and turns hostile structures (cycles, deep nesting, exponential sharing) into errors.
@Suite("Unpickler security")
struct UnpicklerSecurityTests {
    @Test("malicious fixtures are refused, naming the global or opcode, and nothing runs",
          arguments: ["malicious_system.pt", "malicious_stack_global.pt", "malicious_inst.pt",
                      "malicious_legacy.pt", "malicious_numpy.pt"])
    func maliciousFixtures(_ name: String) throws {
        let manifest = try WeightsManifest.load()
        let expected = try #require(manifest.malicious[name])
        try? FileManager.default.removeItem(atPath: manifest.marker)
        let url = Fixtures.url("weights/\(name)")
        let error = try #require(throws: WeightsError.self) { try WeightFile.open(url) }
        if let global = expected.global {
            #expect(error == .forbiddenGlobal(path: url.path, module: global[0], name: global[1]))
            #expect(error.description.contains("\(global[0]).\(global[1])"))
        } else if let opcode = expected.opcode {
            guard case .forbiddenOpcode(_, let name, _) = error else { throw error }
            #expect(name.hasPrefix(opcode))
        }
        #expect(error.description.contains("nothing was executed"))
        #expect(!FileManager.default.fileExists(atPath: manifest.marker), "the payload of \(name) ran")
    }

    static let forbiddenGlobals: [(module: String, name: String)] = [
        ("builtins", "exec"), ("os", "system"), ("subprocess", "Popen"), ("torch", "load"),
        ("torch._utils", "_rebuild_device_tensor_from_numpy"), ("torch.nn.modules.linear", "Linear"),
        ("collections", "defaultdict"), ("__builtin__", "eval"), ("torch", "Tensor"),
    ]

    @Test("globals outside the allow-list are refused by GLOBAL and STACK_GLOBAL", arguments: forbiddenGlobals.indices)
    func forbiddenGlobal(_ index: Int) throws {
        let (module, name) = Self.forbiddenGlobals[index]
        var viaGlobal = PickleBuilder()
        viaGlobal.global(module, name)
        viaGlobal.raw([0x29, 0x52, 0x2E])  // EMPTY_TUPLE, REDUCE, STOP
        var viaStack = PickleBuilder()
        viaStack.string(module)
        viaStack.string(name)
        viaStack.raw([0x93, 0x29, 0x52, 0x2E])  // STACK_GLOBAL, EMPTY_TUPLE, REDUCE, STOP
        for pickle in [viaGlobal.bytes, viaStack.bytes] {
            #expect(throws: WeightsError.forbiddenGlobal(path: "x", module: module, name: name)) {
                try TorchCheckpoint(data: torchZip(pickle: pickle), name: "x")
            }
        }
    }

    static let forbiddenOpcodes: [(code: UInt8, name: String)] = [
        (0x81, "NEWOBJ"), (0x92, "NEWOBJ_EX"), (0x6F, "OBJ"), (0x69, "INST"), (0x82, "EXT1"), (0x50, "PERSID"),
        (0x53, "STRING"), (0x32, "DUP"), (0x8F, "EMPTY_SET"), (0x64, "DICT"), (0x6C, "LIST"), (0x67, "GET"),
        (0x96, "BYTEARRAY8"), (0x97, "NEXT_BUFFER"), (0xFF, "unknown opcode 0xFF"),
    ]

    @Test("opcodes outside the allow-list are refused by name", arguments: forbiddenOpcodes.indices)
    func forbiddenOpcode(_ index: Int) throws {
        let (code, name) = Self.forbiddenOpcodes[index]
        let error = try #require(throws: WeightsError.self) {
            try TorchCheckpoint(data: torchZip(pickle: [0x80, 0x02, 0x7D, code, 0x2E]), name: "x")
        }
        #expect(error == .forbiddenOpcode(path: "x", opcode: error.opcodeName ?? "", offset: 3))
        #expect(error.opcodeName?.hasPrefix(name) == true, "\(error)")
    }

    /// Pickles that are allowed opcode by opcode but malformed as a whole.
    static let malformed: [(name: String, pickle: [UInt8], reason: String)] = [
        ("empty", [], "truncated"),
        ("no STOP", [0x80, 0x02, 0x7D], "truncated"),
        ("STOP on an empty stack", [0x2E], "empty stack"),
        ("stack underflow", [0x80, 0x02, 0x61, 0x2E], "underflow"),
        ("pop through a mark", [0x80, 0x02, 0x7D, 0x28, 0x30, 0x2E], "underflow"),
        ("undefined memo", [0x80, 0x02, 0x68, 0x05, 0x2E], "memo entry 5"),
        ("SETITEMS without mark", [0x80, 0x02, 0x7D, 0x75, 0x2E], "MARK"),
        ("APPEND to a dict", [0x80, 0x02, 0x7D, 0x4E, 0x61, 0x2E], "not a list"),
        ("SETITEM on a list", [0x80, 0x02, 0x5D, 0x4E, 0x4E, 0x73, 0x2E], "not a dict"),
        ("odd SETITEMS", [0x80, 0x02, 0x7D, 0x28, 0x4E, 0x75, 0x2E], "odd"),
        ("invalid UTF-8", [0x80, 0x02, 0x58, 2, 0, 0, 0, 0xC3, 0x28, 0x2E], "UTF-8"),
        ("string longer than file", [0x80, 0x02, 0x58, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E], "truncated"),
        ("huge LONG4", [0x80, 0x02, 0x8B, 0xFF, 0xFF, 0xFF, 0x7F, 0x2E], "LONG4"),
        ("unknown protocol", [0x80, 0x09, 0x2E], "protocol"),
        ("cycle", [0x80, 0x02, 0x7D, 0x71, 0x00, 0x28, 0x4E, 0x68, 0x00, 0x75, 0x2E], "cycle"),
        ("REDUCE on a string", [0x80, 0x02, 0x4E, 0x29, 0x52, 0x2E], "allowed callable"),
        ("REDUCE on a storage type", [0x80, 0x02] + Array("ctorch\nFloatStorage\n".utf8) + [0x29, 0x52, 0x2E], "cannot be called"),
        ("bad persistent id", [0x80, 0x02, 0x4E, 0x51, 0x2E], "persistent id"),
    ]

    @Test("malformed pickles throw", arguments: malformed.indices)
    func malformedPickles(_ index: Int) throws {
        let (name, pickle, reason) = Self.malformed[index]
        let error = try #require(throws: WeightsError.self, "\(name)") {
            try TorchCheckpoint(data: torchZip(pickle: pickle), name: "x")
        }
        guard case .corrupt(_, let message) = error else {
            Issue.record("\(name): \(error)")
            return
        }
        #expect(message.contains(reason), "\(name): \(message)")
    }

    @Test("a million nested lists or tuples are refused without exhausting the stack")
    func deepNesting() throws {
        let depth = 1_000_000
        let lists = [UInt8]([0x80, 0x02]) + [UInt8](repeating: 0x5D, count: depth)
            + [UInt8](repeating: 0x61, count: depth - 1) + [0x2E]
        let tuples = [UInt8]([0x80, 0x02, 0x29]) + [UInt8](repeating: 0x85, count: depth) + [0x2E]
        for pickle in [lists, tuples] {
            let error = try #require(throws: WeightsError.self) { try TorchCheckpoint(data: torchZip(pickle: pickle)) }
            #expect(error.description.contains("nested more than"), "\(error)")
        }
    }

    @Test("exponential sharing (a 'billion laughs' pickle) is refused")
    func billionLaughs() throws {
        var pickle: [UInt8] = [0x80, 0x02, 0x5D, 0x71, 0x00]  // EMPTY_LIST, BINPUT 0
        for _ in 0..<64 { pickle += [0x5D, 0x28, 0x68, 0x00, 0x68, 0x00, 0x65, 0x71, 0x00] }  // [m0, m0] -> m0
        pickle.append(0x2E)
        let error = try #require(throws: WeightsError.self) { try TorchCheckpoint(data: torchZip(pickle: pickle)) }
        #expect(error.description.contains("expands"), "\(error)")
    }

    @Test("a tensor view reaching past its storage is refused")
    func viewOutsideStorage() throws {
        let pickle = PickleBuilder.stateDict { builder in
            builder.string("w")
            builder.tensor(key: "0", count: 4, offset: 1, size: [2, 2], stride: [2, 1])
        }
        let error = try #require(throws: WeightsError.self) {
            try TorchCheckpoint(data: torchZip(pickle: pickle, storages: ["0": [1, 2, 3, 4]]), name: "x")
        }
        guard case .corrupt(_, let message) = error else { throw error }
        #expect(message.contains("tensor 'w'") && message.contains("element 4"), "\(message)")
    }

    @Test("a storage record shorter than its element count is refused")
    func shortStorage() throws {
        let pickle = PickleBuilder.stateDict { builder in
            builder.string("w")
            builder.tensor(key: "0", count: 8, size: [8], stride: [1])
        }
        let error = try #require(throws: WeightsError.self) {
            try TorchCheckpoint(data: torchZip(pickle: pickle, storages: ["0": [1, 2, 3, 4]]))
        }
        #expect(error.description.contains("holds 16 bytes"), "\(error)")
    }

    @Test("a broadcast view of absurd size is refused before allocating")
    func absurdBroadcast() throws {
        let pickle = PickleBuilder.stateDict { builder in
            builder.string("w")
            builder.tensor(key: "0", count: 1, size: [1 << 20, 1 << 20], stride: [0, 0])
        }
        let error = try #require(throws: WeightsError.self) {
            try TorchCheckpoint(data: torchZip(pickle: pickle, storages: ["0": [1]]))
        }
        #expect(error.description.contains("absurd"), "\(error)")
    }

    @Test("a hand-made state dict with every allowed construct reads")
    func handMade() throws {
        let pickle = PickleBuilder.stateDict { builder in
            builder.string("w")
            builder.tensor(key: "0", count: 6, offset: 1, size: [2, 2], stride: [1, 2])
            builder.string("h")
            builder.tensor(storageType: "HalfStorage", key: "1", count: 2, size: [2], stride: [1])
        }
        let half: [Float] = [Float(bitPattern: 0x4000_3C00)]  // float16 1.0 and 2.0 packed in 4 bytes
        let checkpoint = try TorchCheckpoint(data: torchZip(pickle: pickle, storages: ["0": [0, 1, 2, 3, 4, 5], "1": half]))
        #expect(checkpoint.keys == ["w", "h"])
        #expect(try checkpoint.tensor("w").scalars == [1, 3, 2, 4])
        #expect(try checkpoint.tensor("h").scalars == [1, 2])
    }

    @Test("a damaged data.pkl fails its CRC check before it is interpreted")
    func crcMismatch() throws {
        let pickle = PickleBuilder.stateDict { _ in }
        let error = try #require(throws: WeightsError.self) {
            try TorchCheckpoint(data: torchZip(pickle: pickle, pickleCRC: 0x1234_5678))
        }
        #expect(error.description.contains("CRC"), "\(error)")
    }
}

extension WeightsError {
    /// The opcode name of a ``forbiddenOpcode(path:opcode:offset:)`` error.
    var opcodeName: String? {
        if case .forbiddenOpcode(_, let opcode, _) = self { return opcode }
        return nil
    }
}
