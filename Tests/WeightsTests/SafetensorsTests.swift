import Compute
import Foundation
import TestSupport
import Testing
import Weights

/// safetensors files written by `safetensors.torch.save_file`, and hand-made headers that break
/// each rule of the reference validator (safetensors/src/tensor.rs `Metadata::validate`).
@Suite("Safetensors")
struct SafetensorsTests {
    @Test("reads F32, F16, BF16 and I64 tensors exactly, with metadata")
    func mixed() throws {
        let manifest = try WeightsManifest.load()
        let info = try #require(manifest.files["mixed.safetensors"])
        let file = try Safetensors(url: Fixtures.url("weights/mixed.safetensors"))
        #expect(file.keys == info.keys.sorted())
        #expect(file.metadata == info.metadata)
        for (key, expected) in info.tensors {
            #expect(try file.shape(of: key) == expected.shape)
            #expect(try file.dtype(of: key).rawValue == expected.dtype)
            let golden = try Fixtures.tensor("weights/\(expected.expected)")
            #expect(try file.tensor(key).scalars == golden.scalars, "\(key)")
        }
    }

    /// Tensors are widened in pieces of a million elements (on every compute thread): every element
    /// of a tensor of two whole pieces and part of a third lands where it belongs, in each stored type.
    @Test("reads tensors larger than a piece exactly, element by element", arguments: ["F32", "F16", "BF16"])
    func largeTensors(dtype: String) throws {
        let count = 2 << 20 + 12_345, width = dtype == "F32" ? 4 : 2
        // Every element's bits differ from its neighbours' and are a finite number (float16 bits
        // below 0x7C00, bfloat16 ones from 0x3C01 to 0x7A80): an element copied to the wrong place
        // or left unwritten shows.
        let bits = (0..<count).map { UInt32($0 % 16_000 + 1) }
        let values: [Float] = switch dtype {
        case "F32": bits.map { Float($0) * 0.25 }
        case "F16": bits.map { Float(Float16(bitPattern: UInt16($0))) }
        default: bits.map { Float(bitPattern: ($0 + 0x3C00) << 16) }
        }
        var data = [UInt8]()
        data.reserveCapacity(count * width)
        for (index, value) in values.enumerated() {
            let stored: UInt32 = switch dtype {
            case "F32": value.bitPattern
            case "F16": bits[index]
            default: bits[index] + 0x3C00
            }
            for byte in 0..<width { data.append(UInt8((stored >> (8 * byte)) & 0xFF)) }
        }
        let header = #"{"t":{"dtype":"\#(dtype)","shape":[\#(count)],"data_offsets":[0,\#(count * width)]}}"#
        let tensor = try Safetensors(data: safetensorsFile(header: header, data: data)).tensor("t")
        #expect(tensor.shape == [count])
        let wrong = zip(tensor.scalars, values).enumerated().first { $0.element.0.bitPattern != $0.element.1.bitPattern }
        #expect(wrong == nil, "element \(wrong?.offset ?? -1)")
    }

    @Test("an empty header is a valid file without tensors")
    func empty() throws {
        let file = try Safetensors(data: safetensorsFile(header: "{}"))
        #expect(file.keys.isEmpty && file.metadata.isEmpty)
        let padded = try Safetensors(data: safetensorsFile(header: #"{"__metadata__":{"a":"b"}}  "#))
        #expect(padded.metadata == ["a": "b"])
    }

    @Test("reads a hand-made file with a zero-size tensor")
    func handMade() throws {
        let header = #"{"b":{"dtype":"F32","shape":[0],"data_offsets":[8,8]},"a":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]}}"#
        let data: [UInt8] = [0x80, 0x3F, 0x00, 0x40, 0x40, 0x40, 0x80, 0xC0]  // 1, 2, 3, -4 as bfloat16
        let file = try Safetensors(data: safetensorsFile(header: header, data: data))
        #expect(file.keys == ["a", "b"])
        #expect(try file.tensor("a") == Tensor(shape: [2, 2], scalars: [1, 2, 3, -4]))
        #expect(try file.tensor("b").shape == [0])
    }

    /// Each header breaks one rule; `reason` is part of the expected message.
    static let invalid: [(name: String, file: Data, reason: String)] = [
        ("overlap", safetensorsFile(header: #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#, data: .init(repeating: 0, count: 12)), "overlaps"),
        ("out of bounds", safetensorsFile(header: #"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: .init(repeating: 0, count: 8)), "outside"),
        ("size mismatch", safetensorsFile(header: #"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, data: .init(repeating: 0, count: 8)), "does not fill"),
        ("gap", safetensorsFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#, data: .init(repeating: 0, count: 12)), "gap"),
        ("trailing bytes", safetensorsFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, data: .init(repeating: 0, count: 8)), "cover 4 of 8"),
        ("reversed offsets", safetensorsFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}"#, data: .init(repeating: 0, count: 4)), "outside"),
        ("three offsets", safetensorsFile(header: #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}"#, data: .init(repeating: 0, count: 4)), "two numbers"),
        ("negative dimension", safetensorsFile(header: #"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, data: .init(repeating: 0, count: 4)), "does not fill"),
        ("overflowing shape", safetensorsFile(header: #"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,0]}}"#), "does not fill"),
        ("header longer than file", safetensorsFile(header: "{}", headerLength: 4096), "only 2 bytes follow"),
        ("absurd header length", safetensorsFile(header: "{}", headerLength: 1 << 40), "100 MB"),
        ("not JSON", safetensorsFile(header: #"{"a": nope}"#), "valid"),
        ("not an object", safetensorsFile(header: "[1, 2]"), "not a JSON object"),
        ("entry without dtype", safetensorsFile(header: #"{"a":{"shape":[1],"data_offsets":[0,4]}}"#, data: .init(repeating: 0, count: 4)), "dtype"),
        ("non-string metadata", safetensorsFile(header: #"{"__metadata__":{"a":1}}"#), "__metadata__"),
        ("deep nesting", safetensorsFile(header: "{\"a\":" + String(repeating: "[", count: 100_000)), "nested too deeply"),
        ("truncated length", Data([1, 0, 0]), "truncated"),
        ("empty", Data(), "truncated"),
    ]

    @Test("refuses headers that lie", arguments: invalid.indices)
    func refusesInvalid(_ index: Int) throws {
        let (name, file, reason) = Self.invalid[index]
        let error = try #require(throws: WeightsError.self, "\(name)") { try Safetensors(data: file, name: "x") }
        guard case .corrupt(let path, let message) = error else {
            Issue.record("\(name): \(error)")
            return
        }
        #expect(path == "x")
        #expect(message.contains(reason), "\(name): \(message)")
    }

    @Test("unknown dtypes are named")
    func unsupportedDType() {
        let file = safetensorsFile(header: #"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, data: [0])
        #expect(throws: WeightsError.unsupportedDType(path: "x", dtype: "F8_E4M3")) { try Safetensors(data: file, name: "x") }
    }
}
