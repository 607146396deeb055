import AudioDSP
import Foundation
import Testing
import TestSupport

@Suite("auffusion swap and reweight on an existing clip (--from)")
struct PromptEditCommandTests {
    private let clip = Fixtures.url("editing/clip.wav").path

    @Test("swap --from writes both prompts' audio at the clip's length")
    func swapFromClip() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent()
        let result = try CommandRunner.run("auffusion", [
            "swap", "a dog barking", "a cat barking", "--model", folder.path, "--from", clip, "--strength", "0.6",
            "-o", out.appendingPathComponent("swapped.wav").path, "--source-output", out.appendingPathComponent("source.wav").path,
            "--steps", "4", "--json",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        for name in ["swapped.wav", "source.wav"] {
            #expect(try AudioFile.read(out.appendingPathComponent(name)).frameCount == 8000)
        }
        #expect(result.standardOutput.contains("\"strength\":0.6"), "\(result.standardOutput)")
    }

    @Test("reweight --from runs; --strength without --from or outside [0, 1] is a usage error")
    func reweightFromClip() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent().appendingPathComponent("reweighted.wav").path
        let base = ["reweight", "a dog barking", "--weight", "dog=2", "--model", folder.path, "-o", out, "--steps", "3", "--quiet"]
        let result = try CommandRunner.run("auffusion", base + ["--from", clip])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(try AudioFile.read(URL(fileURLWithPath: out)).frameCount == 8000)
        let orphan = try CommandRunner.run("auffusion", base + ["--strength", "0.5"])
        #expect(orphan.exitCode == 64 && orphan.standardError.contains("--strength needs --from"), "\(orphan.standardError)")
        let range = try CommandRunner.run("auffusion", base + ["--from", clip, "--strength", "1.5"])
        #expect(range.exitCode == 64 && range.standardError.contains("between 0 and 1"), "\(range.standardError)")
    }

    @Test("swap --from with --blend and --maps: the blended edit and the edited prompt's maps")
    func swapFromClipWithBlendAndMaps() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent()
        let result = try CommandRunner.run("auffusion", [
            "swap", "a dog barking", "a cat barking", "--model", folder.path, "--from", clip, "--blend", "dog", "cat", "--blend-resolution", "4x256",
            "--maps", out.appendingPathComponent("from-maps").path, "--maps-resolution", "4x256",
            "-o", out.appendingPathComponent("from-cat.wav").path, "--steps", "4", "--quiet",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(try AudioFile.read(out.appendingPathComponent("from-cat.wav")).frameCount == 8000)
        for name in ["maps.npy", "00-a.png", "01-cat.png", "02-barking.png"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("from-maps/\(name)").path), "\(name)")
        }
    }
}
