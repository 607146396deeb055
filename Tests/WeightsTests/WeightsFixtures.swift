import Foundation
import TestSupport

/// `Tests/Fixtures/weights/manifest.json`, written by scripts/reference/weights_fixtures.py.
struct WeightsManifest: Decodable {
    struct TensorInfo: Decodable {
        let shape: [Int]
        let dtype: String
        let expected: String
    }

    struct FileInfo: Decodable {
        let format: String
        let keyPath: [String]
        let keys: [String]
        let tensors: [String: TensorInfo]
        let metadata: [String: String]?
        let candidates: [[String]]?
    }

    struct Malicious: Decodable {
        let global: [String]?
        let opcode: String?
    }

    let marker: String
    let files: [String: FileInfo]
    let malicious: [String: Malicious]

    static func load() throws -> WeightsManifest {
        try Fixtures.json(WeightsManifest.self, "weights/manifest.json")
    }
}

/// The bytes of a weights fixture.
func fixtureData(_ name: String) throws -> Data {
    try Data(contentsOf: Fixtures.url("weights/\(name)"))
}

/// SplitMix64: a small, seeded generator so every mutation run is reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// A safetensors file from a header text and data bytes (the header length is computed unless given).
func safetensorsFile(header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> Data {
    let json = Array(header.utf8)
    var bytes: [UInt8] = []
    withUnsafeBytes(of: (headerLength ?? UInt64(json.count)).littleEndian) { bytes.append(contentsOf: $0) }
    return Data(bytes + json + data)
}

/// Builds and takes apart stored zip archives in torch.save's layout, for tests that need
/// hand-made checkpoints. Independent of the reader under test.
enum TestZip {
    struct Entry {
        var name: String
        var data: [UInt8]
        var method: UInt16 = 0
        var flags: UInt16 = 0
        var crc: UInt32? = nil
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }

    private static func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF)] }
    private static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8((value >> (8 * $0)) & 0xFF) } }

    /// A zip of stored entries with correct CRCs unless an entry overrides its CRC.
    static func make(_ entries: [Entry]) -> Data {
        var out: [UInt8] = [], central: [UInt8] = []
        for entry in entries {
            let name = Array(entry.name.utf8), crc = entry.crc ?? crc32(entry.data)
            let offset = UInt32(out.count), size = le32(UInt32(entry.data.count))
            let common = le16(20) + le16(Int(entry.flags)) + le16(Int(entry.method)) + le16(0) + le16(0x21) + le32(crc) + size + size
            out += le32(0x0403_4B50) + common + le16(name.count) + le16(0) + name + entry.data
            central += le32(0x0201_4B50) + le16(20) + common + le16(name.count) + le16(0) + le16(0) + le16(0) + le16(0)
                + le32(0) + le32(offset) + name
        }
        let directoryOffset = UInt32(out.count)
        out += central
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count)
            + le32(UInt32(central.count)) + le32(directoryOffset) + le16(0)
        return Data(out)
    }

    /// The entries of a zip without a comment, read through its central directory.
    static func entries(of data: Data) -> [Entry] {
        let bytes = [UInt8](data)
        func u16(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> Int { u16(at) | u16(at + 2) << 16 }
        let end = bytes.count - 22
        var position = u32(end + 16)
        var result: [Entry] = []
        for _ in 0..<u16(end + 10) {
            let size = u32(position + 20), nameLength = u16(position + 28)
            let extra = u16(position + 30), comment = u16(position + 32), local = u32(position + 42)
            let name = String(decoding: bytes[(position + 46)..<(position + 46 + nameLength)], as: UTF8.self)
            let start = local + 30 + u16(local + 26) + u16(local + 28)
            result.append(Entry(name: name, data: Array(bytes[start..<(start + size)])))
            position += 46 + nameLength + extra + comment
        }
        return result
    }
}

/// Pickle bytecode for hand-made checkpoints (CPython Lib/pickle.py opcodes, protocol 2).
struct PickleBuilder {
    var bytes: [UInt8] = [0x80, 0x02]

    mutating func op(_ code: UInt8) { bytes.append(code) }
    mutating func raw(_ values: [UInt8]) { bytes += values }

    mutating func string(_ text: String) {
        let utf8 = Array(text.utf8)
        bytes.append(0x58)
        withUnsafeBytes(of: UInt32(utf8.count).littleEndian) { bytes += $0 }
        bytes += utf8
    }

    mutating func int(_ value: Int32) {
        bytes.append(0x4A)
        withUnsafeBytes(of: value.littleEndian) { bytes += $0 }
    }

    mutating func global(_ module: String, _ name: String) {
        bytes.append(0x63)
        bytes += Array("\(module)\n\(name)\n".utf8)
    }

    mutating func intTuple(_ values: [Int]) {
        bytes.append(0x28)
        for value in values { int(Int32(truncatingIfNeeded: value)) }
        bytes.append(0x74)
    }

    /// `_rebuild_tensor_v2(('storage', torch.<type>, key, 'cpu', count), offset, size, stride, False, OrderedDict())`.
    mutating func tensor(storageType: String = "FloatStorage", key: String, count: Int, offset: Int = 0,
                         size: [Int], stride: [Int]) {
        global("torch._utils", "_rebuild_tensor_v2")
        bytes.append(0x28)  // MARK (arguments)
        bytes.append(0x28)  // MARK (persistent id)
        string("storage")
        global("torch", storageType)
        string(key)
        string("cpu")
        int(Int32(truncatingIfNeeded: count))
        bytes += [0x74, 0x51]  // TUPLE, BINPERSID
        int(Int32(truncatingIfNeeded: offset))
        intTuple(size)
        intTuple(stride)
        bytes.append(0x89)  // NEWFALSE
        global("collections", "OrderedDict")
        bytes += [0x29, 0x52, 0x74, 0x52]  // EMPTY_TUPLE, REDUCE, TUPLE, REDUCE
    }

    /// `{name: tensor, …}` followed by STOP.
    static func stateDict(_ build: (inout PickleBuilder) -> Void) -> [UInt8] {
        var builder = PickleBuilder()
        builder.bytes += [0x7D, 0x28]  // EMPTY_DICT, MARK
        build(&builder)
        builder.bytes += [0x75, 0x2E]  // SETITEMS, STOP
        return builder.bytes
    }
}

/// A torch.save-style zip around a pickle and float32 storages.
func torchZip(pickle: [UInt8], storages: [String: [Float]] = [:], pickleCRC: UInt32? = nil) -> Data {
    var entries = [TestZip.Entry(name: "archive/data.pkl", data: pickle, crc: pickleCRC)]
    for (key, values) in storages.sorted(by: { $0.key < $1.key }) {
        entries.append(TestZip.Entry(name: "archive/data/\(key)", data: values.withUnsafeBytes { Array($0) }))
    }
    entries.append(TestZip.Entry(name: "archive/version", data: Array("3\n".utf8)))
    return TestZip.make(entries)
}
