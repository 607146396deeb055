import AudioDSP
import Compute
import Foundation
import Testing
import TestSupport

@Suite("auffusion spectrogram and vocode")
struct SpectrogramCommandTests {
    let folder: URL

    init() throws { folder = try Fixtures.temporaryDirectory() }

    @Test("spectrogram writes the reference log-mel, the image and a PNG")
    func analysesSpeech() throws {
        let mel = folder.appendingPathComponent("speech-mel.npy")
        let image = folder.appendingPathComponent("speech-image.npy")
        let picture = folder.appendingPathComponent("speech.png")
        let result = try CommandRunner.run("auffusion", [
            "spectrogram", Fixtures.url("audio/speech.wav").path, "-o", picture.path,
            "--mel-npy", mel.path, "--image-npy", image.path, "--time-axis",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let tolerance = SpectrogramTolerance.logMel
        let discrepancy = compareLogSpectrogram(try NumPyFile.read(mel), try Fixtures.tensor("audio/speech.logmel.npy"),
                                                dynamicRangeDecibels: tolerance.dynamicRangeDecibels)
        #expect(discrepancy.isWithin(tolerance), "\(discrepancy)")
        #expect(try NumPyFile.read(image).shape == [256, 331])
        let png = try Data(contentsOf: picture)
        #expect(png.prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))
    }

    @Test("vocode turns a log-mel back into a 16 kHz clip of frames × 160 samples, through the peak guard")
    func vocodes() throws {
        let output = folder.appendingPathComponent("speech.wav")
        let result = try CommandRunner.run("auffusion", [
            "vocode", Fixtures.url("audio/speech.logmel.npy").path, "-o", output.path, "--iterations", "4", "--quiet",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        // Griffin-Lim's phases add up past full scale here: the peak guard says so and scales.
        #expect(result.standardError.hasPrefix("warning: speech.wav would clip; the peak guard scaled it by -")
                && result.standardError.split(separator: "\n").count == 1, "\(result.standardError)")
        let audio = try AudioFile.read(output)
        #expect(audio.sampleRate == 16000 && audio.frameCount == 331 * 160)
        #expect(audio.peak > 0.9 && audio.peak <= 0.9886 + 1e-4)
    }

    /// Runs the CLI and expects exit code 1 with a single `error:` line mentioning `fragment`.
    private func expectOneLineError(_ arguments: [String], mentioning fragment: String,
                                    sourceLocation: SourceLocation = #_sourceLocation) throws {
        let result = try CommandRunner.run("auffusion", arguments)
        #expect(result.exitCode == 1, sourceLocation: sourceLocation)
        let lines = result.standardError.split(separator: "\n")
        #expect(lines.count == 1, "\(result.standardError)", sourceLocation: sourceLocation)
        #expect(result.standardError.hasPrefix("error: "), sourceLocation: sourceLocation)
        #expect(result.standardError.contains(fragment), "\(result.standardError)", sourceLocation: sourceLocation)
    }

    @Test("bad input gives a one-line error and exit code 1")
    func badInput() throws {
        let missing = folder.appendingPathComponent("missing.wav").path
        try expectOneLineError(["spectrogram", missing], mentioning: "no audio file")

        let garbage = folder.appendingPathComponent("garbage.wav")
        try Data(repeating: 0x5A, count: 1000).write(to: garbage)
        try expectOneLineError(["spectrogram", garbage.path], mentioning: "cannot read audio")

        let empty = folder.appendingPathComponent("empty.wav")
        try AudioFile.write(AudioBuffer(mono: [], sampleRate: 16000), to: empty)
        try expectOneLineError(["spectrogram", empty.path], mentioning: "no audio samples")

        let nan = folder.appendingPathComponent("nan.wav")
        try AudioFile.write(AudioBuffer(mono: [0.1, .nan, 0.2], sampleRate: 16000), to: nan, encoding: .float32)
        try expectOneLineError(["spectrogram", nan.path], mentioning: "NaN")

        // Digital silence is a spectrogram like any other (the floor everywhere), as transfer and inpaint accept it.
        let silent = try CommandRunner.run("auffusion", ["spectrogram", Fixtures.url("audio/silence.wav").path, "-o",
                                                         folder.appendingPathComponent("s.png").path, "--mel-npy", folder.appendingPathComponent("s.npy").path])
        #expect(silent.exitCode == 0 && silent.standardError.isEmpty, "\(silent.standardError)")
        let floor = try NumPyFile.read(folder.appendingPathComponent("s.npy")).scalars
        #expect(!floor.isEmpty && floor.allSatisfy { $0 == floor[0] && $0.isFinite })

        let short = folder.appendingPathComponent("short.wav")
        try AudioFile.write(AudioBuffer(mono: [Float](repeating: 0.3, count: 200), sampleRate: 16000), to: short)
        try expectOneLineError(["spectrogram", short.path], mentioning: "samples")

        try expectOneLineError(["vocode", Fixtures.url("audio/speech.logmel.npy").path, "-o", folder.appendingPathComponent("x.mp4").path],
                               mentioning: "unknown extension")
        try expectOneLineError(["vocode", Fixtures.url("audio/mel_pinv.npy").path, "-o", folder.appendingPathComponent("x.wav").path],
                               mentioning: "expected a spectrogram of shape (256, frames)")
        let nanMel = folder.appendingPathComponent("nan-mel.npy")
        try NumPyFile.write(Tensor(shape: [256, 2], repeating: .nan), to: nanMel)
        try expectOneLineError(["vocode", nanMel.path, "-o", folder.appendingPathComponent("x.wav").path], mentioning: "NaN")
        try expectOneLineError(["vocode", garbage.path, "-o", folder.appendingPathComponent("x.wav").path], mentioning: "not a valid .npy")
    }

    @Test("an output path equal to the input is refused and the input is untouched")
    func refusesToOverwriteInput() throws {
        let input = folder.appendingPathComponent("clip.wav")
        try FileManager.default.copyItem(at: Fixtures.url("audio/tone440.wav"), to: input)
        let before = try Data(contentsOf: input)
        try expectOneLineError(["spectrogram", input.path, "--mel-npy", input.path], mentioning: "refusing to overwrite")
        // A .npy saved under a .wav name, given as both input and output of vocode.
        let mel = folder.appendingPathComponent("mel.wav")
        try NumPyFile.write(Tensor(shape: [256, 4], repeating: -5), to: mel)
        let melBefore = try Data(contentsOf: mel)
        try expectOneLineError(["vocode", mel.path, "-o", mel.path], mentioning: "refusing to overwrite")
        #expect(try Data(contentsOf: input) == before)
        #expect(try Data(contentsOf: mel) == melBefore)
    }
}
