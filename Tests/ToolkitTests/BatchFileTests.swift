import FileOutput
import Foundation
import Testing
import Toolkit

@Suite("What a batch leaves on disk: the manifest it resumes from, no temporary files")
struct BatchFileTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("batch-files-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    @Test("finished tasks: done in some manifest, by output and fingerprint; failed, cut-off and older keyless lines do not count")
    func finished() throws {
        let out = OutputFolder(folder)
        func entry(_ name: String, _ status: String, fingerprint: String? = "f1") -> String {
            let keys = fingerprint.map { #","output":"\#(name)","fingerprint":"\#($0)""# } ?? ""
            return #"{"command":"generate","outputs":{"audio":"\#(folder.path)/\#(name)"},"status":"\#(status)","line":0,"take":0\#(keys)}"#
        }
        try [entry("a.wav", "done"), entry("b.wav", "failed"), entry("old.wav", "done", fingerprint: nil)].joined(separator: "\n")
            .write(to: BatchManifest.url(in: out, shard: .all), atomically: true, encoding: .utf8)
        try (entry("c.wav", "done", fingerprint: "f2") + "\n" + entry("d.wav", "done").dropLast(20))
            .write(to: BatchManifest.url(in: out, shard: Shard(index: 1, count: 2)), atomically: true, encoding: .utf8)
        #expect(BatchManifest.url(in: out, shard: Shard(index: 1, count: 2)).lastPathComponent == "manifest-1-of-2.jsonl")
        #expect(BatchManifest.finishedTasks(in: out) == [BatchManifest.TaskKey(output: "a.wav", fingerprint: "f1"),
                                                        BatchManifest.TaskKey(output: "c.wav", fingerprint: "f2")])
    }

    @Test("appended lines are whole lines, in order, across reopenings")
    func appended() throws {
        let url = folder.appendingPathComponent("log.jsonl")
        try AppendedLines(url).append("one")
        let lines = try AppendedLines(url)
        try lines.append("two")
        #expect(try String(contentsOf: url, encoding: .utf8) == "one\ntwo\n")
        // A line cut short by a killed writer is ended before the next one.
        try Data("one\ntw".utf8).write(to: url)
        try AppendedLines(url).append("three")
        #expect(try String(contentsOf: url, encoding: .utf8) == "one\ntw\nthree\n")
        #expect(throws: AtomicFile.Error.self) { try AppendedLines(folder.appendingPathComponent("no/such/log.jsonl")) }
    }

    @Test("a temporary file is pending until it is committed or fails, so an interrupt can remove it")
    func pending() throws {
        let target = folder.appendingPathComponent("x.wav")
        let temporary = AtomicFile.temporaryURL(besides: target)
        #expect(PendingFiles.shared.pending.contains(temporary.path))
        try Data([1]).write(to: temporary)
        try AtomicFile.commit(temporary, to: target)
        #expect(!PendingFiles.shared.pending.contains(temporary.path))
        try AtomicFile.write(Data([2]), to: target)
        #expect(!PendingFiles.shared.pending.contains { $0.hasPrefix(folder.path) })
        #expect(throws: AtomicFile.Error.self) { try AtomicFile.write(Data([3]), to: folder.appendingPathComponent("no/such/y.wav")) }
        #expect(!PendingFiles.shared.pending.contains { $0.hasPrefix(folder.path) })
    }
}
