import AudioDSP
import Compute
import Foundation
import Testing
import TestSupport

@Suite("auffusion transfer and inpaint")
struct EditCommandTests {
    private let clip = Fixtures.url("editing/clip.wav").path

    @Test("transfer writes audio of the clip's length and the mel, and reports JSON")
    func transfer() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent()
        let result = try CommandRunner.run("auffusion", [
            "transfer", clip, "a cat meowing", "--model", folder.path, "-o", out.appendingPathComponent("cat.wav").path,
            "--steps", "4", "--strength", "0.5", "--seed", "3",
            "--save-mel", out.appendingPathComponent("cat-mel.npy").path, "--json",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let audio = try AudioFile.read(out.appendingPathComponent("cat.wav"))
        #expect(audio.sampleRate == 16000 && audio.frameCount == 8000)
        #expect(try NumPyFile.read(out.appendingPathComponent("cat-mel.npy")).shape[0] == 16)
        #expect(result.standardOutput.contains("\"strength\":0.5"))
    }

    @Test("bad edits end with one error line: the input as output, strength outside [0, 1]")
    func badInput() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent().appendingPathComponent("x.wav").path
        let refused = try CommandRunner.run("auffusion", ["transfer", clip, "a cat", "--model", folder.path, "-o", clip, "--quiet"])
        #expect(refused.exitCode == 1)
        #expect(refused.standardError.contains("refusing to overwrite the input"), "\(refused.standardError)")
        let strength = try CommandRunner.run("auffusion", ["transfer", clip, "a cat", "--model", folder.path, "-o", out,
                                                          "--strength", "1.5"])
        #expect(strength.exitCode == 64)
        #expect(strength.standardError.contains("--strength must be between 0 and 1"))
    }
}
