import Foundation
import TestSupport
import Testing
import Weights

/// Files that say two things at once are refused (issue #22): a safetensors header that names a
/// tensor or `__metadata__` twice, a zip entry whose local header names another file, entries
/// that overlap; and messages never echo unbounded input.
@Suite("Strict readers")
struct StrictReaderTests {
    static let tensor = #"{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#

    @Test("a safetensors header naming a tensor twice is refused", arguments: [
        #"{"a":\#(tensor),"a":\#(tensor)}"#,
        #"{"__metadata__":{"format":"pt"},"a":\#(tensor),"__metadata__":{"format":"np"}}"#,
        #"{"a":{"dtype":"F32","dtype":"F16","shape":[1],"data_offsets":[0,4]}}"#,
    ])
    func duplicateSafetensorsKeys(_ header: String) throws {
        let error = try #require(throws: WeightsError.self) {
            try Safetensors(data: safetensorsFile(header: header, data: [0, 0, 0, 0]))
        }
        #expect(error.description.contains("appears twice"), "\(error)")
    }

    /// The byte offsets of each entry's local and central headers in a `TestZip.make` archive.
    static func layout(_ entries: [TestZip.Entry]) -> (local: [Int], central: [Int]) {
        var local: [Int] = [], central: [Int] = [], position = 0
        for entry in entries {
            local.append(position)
            position += 30 + entry.name.utf8.count + entry.data.count
        }
        for entry in entries {
            central.append(position)
            position += 46 + entry.name.utf8.count
        }
        return (local, central)
    }

    static func patch32(_ bytes: inout [UInt8], at offset: Int, _ value: Int) {
        for index in 0..<4 { bytes[offset + index] = UInt8((value >> (8 * index)) & 0xFF) }
    }

    @Test("a zip entry whose local header names another file is refused")
    func localNameDiffers() throws {
        let entries = try ZipLayoutTests.plainEntries()
        var bytes = [UInt8](TestZip.make(entries))
        let local = Self.layout(entries).local[1]
        bytes[local + 30 + entries[1].name.utf8.count - 1] ^= 0x01   // last letter of the local name
        let error = try #require(throws: WeightsError.self) { try TorchCheckpoint(data: Data(bytes)) }
        #expect(error.description.contains("another name in its local header"), "\(error)")
    }

    @Test("a central-directory offset pointing at another entry is refused")
    func offsetPointsAtAnotherEntry() throws {
        let entries = try ZipLayoutTests.plainEntries()
        var bytes = [UInt8](TestZip.make(entries))
        let (local, central) = Self.layout(entries)
        Self.patch32(&bytes, at: central[2] + 42, local[0])   // entry 2's data would be data.pkl's
        #expect(throws: WeightsError.self) { try TorchCheckpoint(data: Data(bytes)) }
    }

    @Test("entries that overlap each other or the central directory are refused")
    func overlappingEntries() throws {
        let entries = try ZipLayoutTests.plainEntries()
        let (local, central) = Self.layout(entries)
        for (index, expected) in [(0, "overlap"), (entries.count - 1, "overlaps the central directory")] {
            var bytes = [UInt8](TestZip.make(entries))
            let grown = entries[index].data.count + 12
            for offset in [local[index] + 18, local[index] + 22, central[index] + 20, central[index] + 24] {
                Self.patch32(&bytes, at: offset, grown)
            }
            let error = try #require(throws: WeightsError.self) { try TorchCheckpoint(data: Data(bytes)) }
            #expect(error.description.contains(expected), "\(error)")
        }
    }

    @Test("messages cap what they echo: a 1 MB tensor name shows as 200 characters")
    func cappedEcho() throws {
        let name = String(repeating: "k", count: 1 << 20)
        let header = #"{"\#(name)":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#
        let error = try #require(throws: WeightsError.self) {
            try Safetensors(data: safetensorsFile(header: header, data: [0, 0, 0, 0]))
        }
        #expect(error.description.count < 1000)
        #expect(error.description.contains("(1048576 characters)"), "\(error.description.prefix(300))")
    }
}
