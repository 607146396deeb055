import Foundation
import TestSupport
import Testing
import Weights

/// Thousands of seeded mutations of valid fixtures (truncation, bit flips, lying length fields,
/// inserted and deleted bytes, random bytes, empty files): each must either throw a
/// ``WeightsError`` or open and read every tensor consistently, and never crash.
@Suite("Mutated files")
struct MutationTests {
    enum Reader: Sendable { case torch, safetensors }

    static let targets: [(name: String, reader: Reader, count: Int)] = [
        ("plain.pt", .torch, 1500), ("views.pt", .torch, 1500), ("nested.pt", .torch, 1500),
        ("protocol4.pt", .torch, 1500), ("legacy.pt", .torch, 2500), ("zip64.pt", .torch, 1500),
        ("mixed.safetensors", .safetensors, 5000),
    ]
    /// Multiplies every count, for long soak runs: `WEIGHTS_MUTATION_SCALE=50 swift test …`.
    static let scale = max(1, Int(ProcessInfo.processInfo.environment["WEIGHTS_MUTATION_SCALE"] ?? "") ?? 1)

    @Test("mutated files throw or read consistently", arguments: targets.indices)
    func mutatedFiles(_ index: Int) throws {
        let (name, reader, baseCount) = Self.targets[index]
        let count = baseCount * Self.scale
        let original = [UInt8](try fixtureData(name))
        var random = SeededGenerator(seed: 0x5EED_0000 + UInt64(index))
        var tally = Tally()
        for _ in 0..<count {
            let mutated = Data(Self.mutate(original, reader: reader, using: &random))
            tally.record(Self.exercise(mutated, with: reader))
            _ = Self.exercise(mutated, with: reader == .torch ? .safetensors : .torch)
        }
        // Both outcomes must occur: a reader that refused everything, or accepted everything,
        // would not be exercised by the mutations that keep (or break) the file's structure.
        #expect(tally.refused > 0, "\(name): \(tally)")
        #expect(tally.opened > 0, "\(name): \(tally)")
    }

    @Test("mutated pickles inside a valid archive throw or read consistently",
          arguments: ["plain.pt", "nested.pt", "protocol4.pt", "parameters.pt"])
    func mutatedPickles(_ name: String) throws {
        let entries = TestZip.entries(of: try fixtureData(name))
        let pickleIndex = try #require(entries.firstIndex { $0.name.hasSuffix("/data.pkl") })
        var random = SeededGenerator(seed: UInt64(name.utf8.reduce(0) { $0 &* 31 &+ UInt64($1) }))
        var tally = Tally()
        for _ in 0..<(1000 * Self.scale) {
            var edited = entries
            edited[pickleIndex].data = Self.mutate(entries[pickleIndex].data, reader: .torch, using: &random)
            tally.record(Self.exercise(TestZip.make(edited), with: .torch))
        }
        #expect(tally.refused > 0, "\(name): \(tally)")
    }

    @Test("random bytes, with and without a plausible magic number, throw")
    func randomBytes() {
        var random = SeededGenerator(seed: 42)
        let prefixes: [[UInt8]] = [[], [0x50, 0x4B, 0x03, 0x04], [0x80, 0x02], [0x80, 0x02, 0x8A, 0x0A],
                                   [0x10, 0, 0, 0, 0, 0, 0, 0, 0x7B]]
        for round in 0..<(1000 * Self.scale) {
            let count = Int.random(in: 0...(round % 10 == 0 ? 4096 : 64), using: &random)
            let bytes = prefixes[round % prefixes.count] + (0..<count).map { _ in UInt8.random(in: 0...255, using: &random) }
            for reader in [Reader.torch, .safetensors] {
                if Self.exercise(Data(bytes), with: reader) == .opened, !bytes.isEmpty, reader == .torch {
                    Issue.record("random bytes opened as a checkpoint: \(bytes.prefix(16))")
                }
            }
        }
    }

    // MARK: - Helpers

    enum Outcome { case opened, refused }

    struct Tally: CustomStringConvertible {
        var opened = 0, refused = 0
        mutating func record(_ outcome: Outcome) {
            if outcome == .opened { opened += 1 } else { refused += 1 }
        }
        var description: String { "\(opened) opened, \(refused) refused" }
    }

    /// Opens `data` and reads every tensor; any error other than a ``WeightsError`` is a failure.
    static func exercise(_ data: Data, with reader: Reader) -> Outcome {
        do {
            let store: any WeightStore = switch reader {
            case .torch: try TorchCheckpoint(data: data, name: "mutant")
            case .safetensors: try Safetensors(data: data, name: "mutant")
            }
            for key in store.keys {
                let shape = try store.shape(of: key)
                let tensor = try store.tensor(key)
                #expect(tensor.shape == shape)
                #expect(tensor.count == shape.reduce(1, *))
            }
            return .opened
        } catch is WeightsError {
            return .refused
        } catch {
            Issue.record("a reader threw a non-WeightsError: \(error)")
            return .refused
        }
    }

    /// One random mutation of `bytes`.
    static func mutate(_ original: [UInt8], reader: Reader, using random: inout SeededGenerator) -> [UInt8] {
        var bytes = original
        guard !bytes.isEmpty else { return [UInt8.random(in: 0...255, using: &random)] }
        func position() -> Int { Int.random(in: 0..<bytes.count, using: &random) }
        switch Int.random(in: 0..<10, using: &random) {
        case 0:  // truncate
            bytes.removeSubrange(position()...)
        case 1:  // flip a few bits
            for _ in 0..<Int.random(in: 1...4, using: &random) { bytes[position()] ^= 1 << UInt8.random(in: 0...7, using: &random) }
        case 2:  // overwrite a few bytes
            for _ in 0..<Int.random(in: 1...8, using: &random) { bytes[position()] = UInt8.random(in: 0...255, using: &random) }
        case 3:  // an extreme value in a 2-, 4- or 8-byte field
            let width = [2, 4, 8].randomElement(using: &random) ?? 4
            let start = position()
            let extremes: [UInt64] = [0, 1, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF, 0x7FFF_FFFF_FFFF_FFFF, .max,
                                      UInt64(original.count), UInt64(original.count) + 1, random.next()]
            let value = extremes.randomElement(using: &random) ?? 0
            for offset in 0..<width where start + offset < bytes.count { bytes[start + offset] = UInt8((value >> (8 * UInt64(offset))) & 0xFF) }
        case 4:  // insert bytes
            let inserted = (0..<Int.random(in: 1...16, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
            bytes.insert(contentsOf: inserted, at: position())
        case 5:  // delete a range
            let start = position()
            bytes.removeSubrange(start..<min(bytes.count, start + Int.random(in: 1...32, using: &random)))
        case 6:  // lie in the length fields: the safetensors header length, or the zip end record
            if reader == .safetensors {
                let lie: UInt64 = [0, 1, UInt64(bytes.count), UInt64(bytes.count) &- 8, 100_000_001, 1 << 63, random.next() % 4096]
                    .randomElement(using: &random) ?? 0
                for offset in 0..<min(8, bytes.count) { bytes[offset] = UInt8((lie >> (8 * UInt64(offset))) & 0xFF) }
            } else {
                let start = max(0, bytes.count - 22) + Int.random(in: 4..<22, using: &random)
                if start < bytes.count { bytes[start] = UInt8.random(in: 0...255, using: &random) }
            }
        case 7:  // random bytes behind the original magic number
            for index in min(4, bytes.count)..<bytes.count { bytes[index] = UInt8.random(in: 0...255, using: &random) }
        case 8:  // copy one region over another
            let from = position(), to = position(), length = Int.random(in: 1...64, using: &random)
            for offset in 0..<length where from + offset < bytes.count && to + offset < bytes.count {
                bytes[to + offset] = original[from + offset]
            }
        default:  // empty file
            bytes = []
        }
        return bytes
    }
}
