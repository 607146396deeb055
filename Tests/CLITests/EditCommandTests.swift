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
        #expect(result.standardOutput.contains("\"strength\":0.5") && !result.standardOutput.contains("sample_posterior"))
        let sampled = try CommandRunner.run("auffusion", ["transfer", clip, "a cat meowing", "--model", folder.path, "--steps", "2",
                                                          "--sample-posterior", "-o", out.appendingPathComponent("sampled.wav").path, "--json"])
        #expect(sampled.exitCode == 0 && sampled.standardOutput.contains("\"sample_posterior\":true"), "\(sampled.standardOutput)")
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

    @Test("inpaint writes the input's own format (44.1 kHz stereo 24-bit) with every sample outside the mask kept; flags override it; a lossy output and a format the container cannot hold are named")
    func fileFormat() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = try Fixtures.temporaryDirectory()
        let input = out.appendingPathComponent("stereo.wav")
        let frames = 22_050
        let left = (0..<frames).map { Float(0.3 * sin(2 * Double.pi * 300 * Double($0) / 44_100)) }
        let right = (0..<frames).map { Float(0.2 * sin(2 * Double.pi * 1_100 * Double($0) / 44_100)) }
        try AudioFile.write(AudioBuffer(channels: [left, right], sampleRate: 44_100), to: input, encoding: .pcm24)
        func inpaint(_ output: String, _ extra: [String] = []) throws -> CommandResult {
            try CommandRunner.run("auffusion", ["inpaint", input.path, "a cat meowing", "--model", folder.path, "--steps", "2",
                                                "--mask", "0.2-0.3", "-o", out.appendingPathComponent(output).path, "--json"] + extra)
        }
        let same = try inpaint("same.wav")
        #expect(same.exitCode == 0, "\(same.standardError)")
        let (original, edited) = (try AudioFile.read(input), try AudioFile.read(out.appendingPathComponent("same.wav")))
        #expect(try AudioReader(out.appendingPathComponent("same.wav")).format == AudioReader(input).format)
        for channel in 0..<2 {
            #expect(edited.channels[channel][..<8_820] == original.channels[channel][..<8_820])
            #expect(edited.channels[channel][13_230...] == original.channels[channel][13_230...])
        }
        #expect(same.standardOutput.contains("\"sample_rate\":44100"), "\(same.standardOutput)")
        let converted = try inpaint("small.flac", ["--sample-rate", "16000", "--channels", "1", "--sample-format", "pcm16"])
        #expect(converted.exitCode == 0, "\(converted.standardError)")
        let small = try AudioReader(out.appendingPathComponent("small.flac")).format
        #expect(small.sampleRate == 16_000 && small.channelCount == 1 && small.encoding == .pcm16)
        #expect(try AudioFile.read(out.appendingPathComponent("small.flac")).frameCount == 8_000)
        #expect(converted.standardError.contains("converted, not copied"))
        let float = try inpaint("float.flac", ["--sample-format", "float32"])
        #expect(float.exitCode == 0 && float.standardError.contains("float.flac cannot hold float32 samples: writing pcm24"),
                "\(float.standardError)")
        #expect(try AudioReader(out.appendingPathComponent("float.flac")).format.encoding == .pcm24)
        let lossy = try inpaint("lossy.ogg")
        #expect(lossy.exitCode == 0 && lossy.standardError.contains("write .flac or .wav"), "\(lossy.standardError)")
        let channels = try inpaint("three.wav", ["--channels", "3"])
        #expect(channels.exitCode == 1 && channels.standardError.contains("cannot make 3 channels from 2"), "\(channels.standardError)")
        // The record's length is the written file's: 22 051 frames at 44.1 kHz, not the model's 16 kHz samples.
        let odd = out.appendingPathComponent("odd.wav")
        try AudioFile.write(AudioBuffer(channels: [left + [0], right + [0]], sampleRate: 44_100), to: odd, encoding: .pcm24)
        let oddRun = try CommandRunner.run("auffusion", ["inpaint", odd.path, "a cat meowing", "--model", folder.path, "--steps", "2",
                                                         "--mask", "0.2-0.3", "-o", out.appendingPathComponent("odd-out.wav").path, "--json"])
        let record = try #require(try JSONSerialization.jsonObject(with: Data(oddRun.standardOutput.utf8)) as? [String: Any])
        #expect(abs((record["seconds"] as? Double ?? 0) - 22_051.0 / 44_100) < 1e-12, "\(oddRun.standardOutput)")
        // --raw writes the model's decoding: format flags beside it would be dropped, so they are refused, and nothing is written.
        let raw = try inpaint("raw.wav", ["--raw", "--sample-rate", "48000"])
        #expect(raw.exitCode == 1 && raw.standardError.contains("--raw writes the model's decoding as it is (mono, 16000 Hz)"),
                "\(raw.standardError)")
        #expect(!FileManager.default.fileExists(atPath: out.appendingPathComponent("raw.wav").path))
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
