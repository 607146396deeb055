import AudioDSP
import Compute
import Foundation
import Testing
import TestSupport

/// Clips and generations longer than the embedded model's 2.56 s canvas, from the command line.
@Suite("Long clips from the command line")
struct LongClipCommandTests {
    @Test("transfer and swap of a 6 s clip write 6 s and report the windows; generate --duration 6 writes 6 s; a swap with a local blend and --maps over windows writes maps as long as the clip")
    func longClip() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("long-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let clip = folder.appendingPathComponent("clip.wav"), out = folder.appendingPathComponent("out.wav")
        let samples = (0..<96_000).map { Float(0.3 * sin(2 * .pi * 255 * Double($0) / 16_000)) }
        try AudioFile.write(AudioBuffer(mono: samples, sampleRate: 16_000), to: clip)
        let restyle = try CommandRunner.run("auffusion", ["transfer", clip.path, "white noise", "--steps", "4", "-o", out.path, "--json"])
        #expect(restyle.exitCode == 0, "\(restyle.standardError)")
        let record = try JSONSerialization.jsonObject(with: Data(restyle.standardOutput.utf8)) as? [String: Any]
        let details = record?["details"] as? [String: Any]
        #expect((details?["windows"] as? Int ?? 0) >= 3 && (details?["spans"] as? [[Double]]) == [[0, 6]], "\(restyle.standardOutput)")
        #expect(try AudioFile.read(out).frameCount == 96_000)
        let generated = folder.appendingPathComponent("generated.wav")
        let generate = try CommandRunner.run("auffusion", ["generate", "a beep", "--duration", "6", "--steps", "3", "-o", generated.path])
        #expect(generate.exitCode == 0 && (try? AudioFile.read(generated).frameCount) == 96_000, "\(generate.standardError)")
        // The work after the last step is shown window by window (a log gets its last line at least).
        let windows = details?["windows"] as? Int ?? 0
        #expect(generate.standardError.contains("step ") && generate.standardError.contains("decoding \(windows)/\(windows)")
                && generate.standardError.contains("vocoding "), "\(generate.standardError)")
        let shown = try CommandRunner.run("auffusion", ["transfer", clip.path, "white noise", "--steps", "2", "-o", out.path])
        #expect(shown.exitCode == 0 && shown.standardError.contains("encoding \(windows)/\(windows)"), "\(shown.standardError)")
        let inverted = try CommandRunner.run("auffusion", ["invert", clip.path, "--steps", "2", "-o", folder.appendingPathComponent("clip.inversion").path])
        #expect(inverted.exitCode == 0 && inverted.standardError.contains("encoding \(windows)/\(windows)")
                && inverted.standardError.contains("inverting 2/2"), "\(inverted.standardError)")
        let swapped = folder.appendingPathComponent("swap.wav")
        let swap = try CommandRunner.run("auffusion", ["swap", "a low beep", "a high beep", "--from", clip.path, "--steps", "4",
                                                       "-o", swapped.path, "--quiet"])
        #expect(swap.exitCode == 0 && (try? AudioFile.read(swapped).frameCount) == 96_000, "\(swap.standardError)")
        let maps = folder.appendingPathComponent("maps")
        let blend = try CommandRunner.run("auffusion", ["swap", "a low beep", "a high beep", "--from", clip.path, "--steps", "4",
                                                        "--blend", "beep", "--maps", maps.path, "-o", swapped.path, "--quiet"])
        #expect(blend.exitCode == 0 && (try? AudioFile.read(swapped).frameCount) == 96_000, "\(blend.standardError)")
        // 6 s = 600 frames on a canvas rounded up to 8: latents 75 wide, the 8×32 level joined to 8×75.
        let shape = try NumPyFile.read(maps.appendingPathComponent("maps.npy")).shape
        #expect(shape.count == 3 && Array(shape.dropFirst()) == [8, 75], "maps.npy \(shape)")
    }
}
