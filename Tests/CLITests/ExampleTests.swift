import Foundation
import Testing
import TestSupport

@Suite("Examples that need no weights")
struct ExampleTests {
    @Test("mel-roundtrip analyses a clip and reports an exact image round trip")
    func melRoundTrip() throws {
        let result = try CommandRunner.run("mel-roundtrip", [Fixtures.url("audio/speech.wav").path])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("log-mel: 256 bands × 331 frames"))
        let worst = try #require(result.standardOutput.split(separator: "=").last.flatMap { Float($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        #expect(worst <= 2e-6)
    }

    @Test("mel-roundtrip without an argument prints its usage and fails")
    func usage() throws {
        let result = try CommandRunner.run("mel-roundtrip", [])
        #expect(result.exitCode == 2)
        #expect(result.standardError.hasPrefix("usage: mel-roundtrip"))
    }

    @Test("transfer restyles the fixture clip with the tiny model and writes audio of its length")
    func transfer() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent().appendingPathComponent("restyled.wav")
        let result = try CommandRunner.run("transfer", [folder.path, Fixtures.url("editing/clip.wav").path, "a cat meowing",
                                                        out.path, "0.5", "4"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("wrote 0.50 s"))
    }

    @Test("inpaint regenerates a range of the fixture clip and keeps the rest of its samples")
    func inpaint() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent().appendingPathComponent("inpainted.wav")
        let result = try CommandRunner.run("inpaint", [folder.path, Fixtures.url("editing/clip.wav").path, "a siren wailing",
                                                       out.path, "0.1-0.3", "3"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("wrote 0.50 s"), "\(result.standardOutput)")
        let kept = try #require(result.standardOutput.split(separator: ";").last?.split(separator: " ").first.flatMap { Int($0) })
        #expect(kept >= 8000 - 3200 && kept < 8000)   // at most the 0.08 s-rounded range plus crossfades changes
    }

    @Test("prompt-edit swaps a word from noise and on the fixture clip")
    func promptEdit() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent().appendingPathComponent("swapped.wav")
        let fromNoise = try CommandRunner.run("prompt-edit", [folder.path, "a dog barking", "a cat barking", out.path, "2"])
        #expect(fromNoise.exitCode == 0, "\(fromNoise.standardError)")
        #expect(fromNoise.standardOutput.contains("wrote 10.00 s of \"a cat barking\""), "\(fromNoise.standardOutput)")
        let onClip = try CommandRunner.run("prompt-edit", [folder.path, "a dog barking", "a cat barking", out.path, "3",
                                                           Fixtures.url("editing/clip.wav").path, "0.5"])
        #expect(onClip.exitCode == 0, "\(onClip.standardError)")
        #expect(onClip.standardOutput.contains("wrote 0.50 s"), "\(onClip.standardOutput)")
    }
}

@Suite("The generate example")
struct GenerateExampleTests {
    @Test("generates a clip with the tiny fixture model")
    func generates() throws {
        let folder = try PipelineFolders.folder("adapter")
        let output = folder.deletingLastPathComponent().appendingPathComponent("out.wav")
        let result = try CommandRunner.run("generate", [folder.path, "rain on a roof", output.path, "2"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("10.0 s at 16000 Hz"))
        #expect(FileManager.default.fileExists(atPath: output.deletingPathExtension().appendingPathExtension("png").path))
    }
}
