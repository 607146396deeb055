import Foundation
import TestSupport
import Testing
import Weights

/// The zip reader under torch.save checkpoints: damaged or unusual archives fail with a message.
@Suite("Zip layout")
struct ZipLayoutTests {
    /// plain.pt's records, re-packed by the independent test writer.
    static func plainEntries() throws -> [TestZip.Entry] {
        TestZip.entries(of: try fixtureData("plain.pt"))
    }

    @Test("a re-packed archive with another record prefix reads the same")
    func repacked() throws {
        let entries = try Self.plainEntries().map { entry -> TestZip.Entry in
            var renamed = entry
            renamed.name = "pytorch_model/" + entry.name.split(separator: "/").dropFirst().joined(separator: "/")
            return renamed
        }
        let original = try TorchCheckpoint(url: Fixtures.url("weights/plain.pt"))
        let repacked = try TorchCheckpoint(data: TestZip.make(entries))
        #expect(repacked.keys == original.keys)
        for key in original.keys { #expect(try repacked.tensor(key) == original.tensor(key)) }
    }

    static let damaged: [(name: String, edit: @Sendable ([TestZip.Entry]) -> Data, expect: String)] = [
        ("no data.pkl", { TestZip.make($0.filter { !$0.name.hasSuffix("data.pkl") }) }, "no <archive>/data.pkl"),
        ("two data.pkl", { TestZip.make($0 + [TestZip.Entry(name: "other/data.pkl", data: [0x2E])]) }, "several data.pkl"),
        ("duplicate entry", { TestZip.make($0 + [$0[1]]) }, "appears twice"),
        ("missing storage", { TestZip.make($0.filter { !$0.name.hasSuffix("data/3") }) }, "'plain/data/3' is missing"),
        ("big-endian", { TestZip.make($0 + [TestZip.Entry(name: "plain/byteorder", data: Array("big".utf8))]) }, "byte order"),
        ("encrypted", { entries in TestZip.make(entries.map { var e = $0; e.flags = 1; return e }) }, "encrypted"),
        ("unknown method", { entries in TestZip.make(entries.map { var e = $0; e.method = 12; return e }) }, "method 12"),
    ]

    @Test("damaged archives are refused", arguments: damaged.indices)
    func damagedArchives(_ index: Int) throws {
        let (name, edit, expected) = Self.damaged[index]
        let data = edit(try Self.plainEntries())
        let error = try #require(throws: WeightsError.self, "\(name)") { try TorchCheckpoint(data: data) }
        #expect(error.description.contains(expected), "\(name): \(error)")
    }

    /// Overwrites `count` little-endian bytes at `offset` from the end-of-central-directory record.
    static func patchEnd(_ data: Data, at field: Int, value: UInt32, width: Int) -> Data {
        var bytes = [UInt8](data)
        let end = bytes.count - 22
        for index in 0..<width { bytes[end + field + index] = UInt8((value >> (8 * UInt32(index))) & 0xFF) }
        return Data(bytes)
    }

    @Test("end records that lie about the directory are refused")
    func lyingEndRecord() throws {
        let data = TestZip.make(try Self.plainEntries())
        let lies: [(Data, String)] = [
            (Self.patchEnd(data, at: 16, value: 0x7FFF_0000, width: 4), "outside the file"),  // directory offset
            (Self.patchEnd(data, at: 12, value: 0x00FF_FFFF, width: 4), "outside the file"),  // directory size
            (Self.patchEnd(data, at: 10, value: 5000, width: 2), "entries"),  // entry count
            (Self.patchEnd(data, at: 10, value: 0xFFFF, width: 2), "ZIP64"),  // defers to a missing ZIP64 record
            (Self.patchEnd(data, at: 4, value: 1, width: 2), "multi-disk"),
            (Data(data.dropLast(1)), "end-of-central-directory"),
            (Data("PK\u{3}\u{4}".utf8), "too short"),
        ]
        for (file, expected) in lies {
            let error = try #require(throws: WeightsError.self) { try TorchCheckpoint(data: file) }
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test("a local header offset beyond the file is refused")
    func lyingLocalHeader() throws {
        var bytes = [UInt8](TestZip.make(try Self.plainEntries()))
        let end = bytes.count - 22
        let directory = Int(bytes[end + 16]) | Int(bytes[end + 17]) << 8 | Int(bytes[end + 18]) << 16
        for index in 0..<4 { bytes[directory + 42 + index] = 0x7F }
        let error = try #require(throws: WeightsError.self) { try TorchCheckpoint(data: Data(bytes)) }
        #expect(error.description.contains("beyond the file"), "\(error)")
    }

    @Test("the pre-0.4 tar format and unrelated files are told apart")
    func otherFormats() throws {
        var tar = [UInt8](repeating: 0, count: 1024)
        tar.replaceSubrange(257..<262, with: Array("ustar".utf8))
        #expect(throws: WeightsError.legacyTorchFormat(path: "old.tar")) { try TorchCheckpoint(data: Data(tar), name: "old.tar") }
        let error = try #require(throws: WeightsError.self) { try TorchCheckpoint(data: Data("hello".utf8)) }
        #expect(error.description.contains("neither"), "\(error)")
    }
}
