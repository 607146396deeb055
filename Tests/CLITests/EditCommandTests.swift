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

    @Test("inpaint keeps the clip outside the mask and reports the merged ranges")
    func inpaint() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent().appendingPathComponent("filled.wav")
        let result = try CommandRunner.run("auffusion", [
            "inpaint", clip, "a cat meowing", "--model", folder.path, "-o", out.path, "--steps", "3",
            "--mask", "0.1-0.2", "--mask", "0.15-0.3", "--band", "0-4000", "--json",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let input = try AudioFile.read(Fixtures.url("editing/clip.wav")).channels[0]
        let output = try AudioFile.read(out).channels[0]
        #expect(output.count == input.count && output[..<1600] == input[..<1600] && output[4800...] == input[4800...])
        #expect(result.standardOutput.contains("\"mask\":[[0.1,0.3]]"), "\(result.standardOutput)")
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
        #expect(strength.exitCode == 2)
        #expect(strength.standardError.contains("--strength must be between 0 and 1"))
        let cases: [([String], String)] = [
            (["--mask", "0.6-0.9"], "lies outside the clip"),
            (["--mask", "0.1-0.2", "--band", "100-9000"], "0 <= low < high <= 8000"),
        ]
        for (arguments, fragment) in cases {
            let result = try CommandRunner.run("auffusion", ["inpaint", clip, "a cat", "--model", folder.path, "-o", out,
                                                            "--quiet"] + arguments)
            #expect(result.exitCode == 1, "\(arguments)")
            #expect(result.standardError.split(separator: "\n").count == 1 && result.standardError.contains(fragment),
                    "\(result.standardError)")
        }
        let noMask = try CommandRunner.run("auffusion", ["inpaint", clip, "a cat", "--model", folder.path, "-o", out])
        #expect(noMask.exitCode == 2 && noMask.standardError.contains("--mask"))
    }
}
