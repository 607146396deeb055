import Foundation
import FuzzTargets
import Testing
import TestSupport

/// Every committed fuzz input goes through its target in every `make test`: the seeds, and each
/// input a fuzzing campaign found to crash, hang or exhaust memory once (Fuzz/regressions),
/// so a fixed bug stays fixed. Serialized: the targets share one scratch folder.
@Suite("Fuzz inputs replay", .serialized)
struct FuzzReplayTests {
    static let fuzz = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fuzz")

    static func inputs(_ kind: String, _ target: String) -> [URL] {
        let folder = fuzz.appendingPathComponent(kind).appendingPathComponent(target)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.sorted().filter { !$0.hasPrefix(".") }.map { folder.appendingPathComponent($0) }
    }

    @Test("seeds and regression inputs run through their target", arguments: FuzzTarget.all.map(\.name))
    func replay(_ name: String) throws {
        let target = try #require(FuzzTarget.named(name))
        let seeds = Self.inputs("corpus", name)
        #expect(!seeds.isEmpty, "Fuzz/corpus/\(name) has no seeds")
        target.prepare()
        for url in seeds + Self.inputs("regressions", name) {
            let started = Date()
            target(try Data(contentsOf: url))
            #expect(Date().timeIntervalSince(started) < 10, "\(url.lastPathComponent) took too long")
        }
    }
}
