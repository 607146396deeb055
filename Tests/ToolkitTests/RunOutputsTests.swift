import AudioDSP
import FileOutput
import Foundation
import Pipeline
import Testing
import TestSupport
import Toolkit

@Suite("RunOutputs checks every output before a run, and RunRecord keeps one shape")
struct RunOutputsTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("run-outputs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    private func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

    @Test("the same file named twice, a missing folder, an unknown audio extension and an input are refused")
    func refusesBadOutputs() throws {
        #expect(throws: OutputError.namedTwice(path: file("a.wav").path)) {
            try RunOutputs(audio: file("a.wav"), sourceAudio: folder.appendingPathComponent("./a.wav"), inputs: [])
        }
        let missing = folder.appendingPathComponent("no/such")
        #expect(throws: OutputError.missingFolder(path: missing.appendingPathComponent("a.png").path, folder: missing.path)) {
            try RunOutputs(spectrogram: missing.appendingPathComponent("a.png"), inputs: [])
        }
        #expect(throws: AudioFileError.self) { try RunOutputs(audio: file("a.mp4"), inputs: []) }
        try Data([1]).write(to: file("in.wav"))
        #expect(throws: (any Error).self) { try RunOutputs(audio: file("in.wav"), inputs: [file("in.wav")]) }
        _ = try RunOutputs(audio: file("out.wav"), spectrogram: file("out.png"), inputs: [file("in.wav")])
    }

    @Test("outputs written together replace the earlier ones together: none before the scope ends, none when it fails")
    func committedTogether() throws {
        for name in ["a.txt", "b.txt"] { try Data("old".utf8).write(to: file(name)) }
        let text = { (name: String) in String(decoding: try Data(contentsOf: self.file(name)), as: UTF8.self) }
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try AtomicFile.committingTogether {
                try AtomicFile.write(Data("new".utf8), to: file("a.txt"))
                #expect(try text("a.txt") == "old")
                try AtomicFile.write(Data("new".utf8), to: file("b.txt"))
                throw Stop()
            }
        }
        #expect(try text("a.txt") == "old" && text("b.txt") == "old")
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == ["a.txt", "b.txt"])
        try AtomicFile.committingTogether {
            try AtomicFile.write(Data("new".utf8), to: file("a.txt"))
            try AtomicFile.committingTogether { try AtomicFile.write(Data("new".utf8), to: file("b.txt")) }
            #expect(try text("a.txt") == "old" && text("b.txt") == "old")   // the inner scope is the outer's
        }
        #expect(try text("a.txt") == "new" && text("b.txt") == "new")
        #expect(!PendingFiles.shared.pending.contains { $0.hasPrefix(folder.path) })   // other tests' files may be pending
        // A file the outputs make stale goes with their commit, not before; a failed scope keeps it.
        try Data("old".utf8).write(to: file("stale.txt"))
        #expect(throws: Stop.self) {
            try AtomicFile.committingTogether {
                AtomicFile.removeWhenCommitted(file("stale.txt"))
                throw Stop()
            }
        }
        #expect(FileManager.default.fileExists(atPath: file("stale.txt").path))
        try AtomicFile.committingTogether {
            AtomicFile.removeWhenCommitted(file("stale.txt"))
            #expect(FileManager.default.fileExists(atPath: file("stale.txt").path))
            try AtomicFile.write(Data("new".utf8), to: file("a.txt"))
        }
        #expect(!FileManager.default.fileExists(atPath: file("stale.txt").path))
    }

    @Test("made folders: the missing ones are made and listed, each after its parent; a failed run removes those left empty, deepest first; under a file nothing is made")
    func madeFolders() throws {
        let made = try MadeFolders(file("a/b/c"))
        #expect(made.urls.map(\.path) == [file("a").path, file("a/b").path, file("a/b/c").path])
        try Data("x".utf8).write(to: file("a/b/kept.txt"))
        made.removeEmpty()
        #expect(!FileManager.default.fileExists(atPath: file("a/b/c").path) && FileManager.default.fileExists(atPath: file("a/b/kept.txt").path))
        #expect(try MadeFolders(file("a/b")).urls.isEmpty)   // nothing to make
        #expect(throws: (any Error).self) { try MadeFolders(file("a/b/kept.txt/f")) }
    }

    @Test("the record holds the request's settings that change the output when they are not the defaults")
    func requestSettings() throws {
        let plain = try RunRecord(command: "generate", request: GenerationRequest(prompt: "a dog"), elapsed: 0).jsonLine()
        for key in ["negative_prompt", "guidance_rescale", "window_join"] { #expect(!plain.contains(key), "\(plain)") }
        var request = GenerationRequest(prompt: "a dog")
        (request.negativePrompt, request.guidanceRescale, request.windowJoin) = ("noise", 0.7, .average)
        let record = try RunRecord(command: "generate", request: request, elapsed: 0).jsonLine()
        for part in [#""negative_prompt":"noise""#, #""guidance_rescale":0.7"#, #""window_join":"average""#] {
            #expect(record.contains(part), "\(record)")
        }
    }

    @Test("an output that is a FIFO, or a hard link to an input, is refused before any work")
    func specialOutputs() throws {
        #expect(mkfifo(file("pipe.wav").path, 0o644) == 0)
        #expect { try RunOutputs(audio: file("pipe.wav"), inputs: []) } throws: { "\($0)".contains("not a regular file") }
        try Data([1]).write(to: file("in.wav"))
        #expect(link(file("in.wav").path, file("same.wav").path) == 0)
        #expect { try RunOutputs(audio: file("same.wav"), inputs: [file("in.wav")]) } throws: { "\($0)".contains("overwrite the input") }
    }

    @Test("audio that would clip is scaled by the peak guard and the gain reported; without it, written as is")
    func guardsPeaks() throws {
        let loud = AudioBuffer(mono: (0..<1600).map { 1.5 * sinf(Float($0) * 0.05) }, sampleRate: 16000)
        var outputs = try RunOutputs(audio: file("guarded.wav"), inputs: [])
        var warnings: [String] = []
        let gain = try outputs.writeAudio(loud, to: file("guarded.wav")) { warnings.append($0) }
        #expect(gain < -3 && warnings.count == 1 && warnings[0].contains("guarded.wav would clip"))
        #expect(try AudioFile.read(file("guarded.wav")).peak <= PeakGuard().ceiling + 1e-4)
        outputs.guardsPeaks = false
        let raw = try outputs.writeAudio(loud, to: file("raw.flac")) { warnings.append($0) }
        #expect(raw == 0 && warnings.count == 1)
    }

    @Test("the record's keys are snake_case, absent fields are left out, and details round-trip")
    func recordShape() throws {
        var record = RunRecord(command: "inpaint", seed: 7, elapsed: 1.5, input: URL(fileURLWithPath: "/tmp/x/../in.wav"))
        record.sourcePrompt = "a dog"
        record.details = ["mask": .array([.array([.number(1), .number(1.5)])]), "raw": .bool(false), "name": .string("s")]
        let line = try record.jsonLine()
        #expect(line.contains("\"source_prompt\":\"a dog\"") && line.contains("\"input\":\"/tmp/in.wav\"")
                && line.contains("\"timings\":{\"total_s\":1.5}") && !line.contains("sample_rate"))
        let decoded = try JSONDecoder().decode(RunRecord.self, from: Data(line.utf8))
        #expect(decoded.details == record.details && decoded.seed == 7 && decoded.command == "inpaint")
    }
}
