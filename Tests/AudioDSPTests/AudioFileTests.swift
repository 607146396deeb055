import AudioDSP
import Compute
import Foundation
import Testing
import TestSupport

@Suite("Audio files")
struct AudioFileTests {
    let folder: URL

    init() throws { folder = try Fixtures.temporaryDirectory() }

    /// Every 16-bit value once, in both channels (reversed in the second).
    private func allInt16Values() -> AudioBuffer {
        let values = (Int(Int16.min)...Int(Int16.max)).map { Float($0) / 32768 }
        return AudioBuffer(channels: [values, values.reversed()], sampleRate: 16000)
    }

    @Test("16-bit PCM read → write → read is bit-exact (WAV, FLAC, AIFF)", arguments: ["wav", "flac", "aiff"])
    func pcm16RoundTrip(_ ext: String) throws {
        let first = folder.appendingPathComponent("first.\(ext)")
        let second = folder.appendingPathComponent("second.\(ext)")
        try AudioFile.write(allInt16Values(), to: first)
        let read = try AudioFile.read(first)
        try AudioFile.write(read, to: second)
        let reread = try AudioFile.read(second)
        #expect(read == allInt16Values())
        #expect(reread.channels.map { $0.map(\.bitPattern) } == read.channels.map { $0.map(\.bitPattern) })
        #expect(reread.sampleRate == 16000)
    }

    @Test("32-bit float WAV keeps samples exactly, including values beyond ±1")
    func floatRoundTrip() throws {
        let samples: [Float] = [0, 0.5, -0.25, 1.5, -2, 1e-7, 0.123456789]
        let url = folder.appendingPathComponent("float.wav")
        try AudioFile.write(AudioBuffer(mono: samples, sampleRate: 22050), to: url, encoding: .float32)
        let read = try AudioFile.read(url)
        #expect(read.channels[0] == samples)
        #expect(read.sampleRate == 22050)
    }

    @Test("24-bit WAV and OGG/Vorbis are read back close to what was written")
    func lossyAndWideFormats() throws {
        let tone = (0..<16000).map { Float(0.5 * sin(2 * Double.pi * 440 * Double($0) / 16000)) }
        let wav24 = folder.appendingPathComponent("tone24.wav")
        try AudioFile.write(AudioBuffer(mono: tone, sampleRate: 16000), to: wav24, encoding: .pcm24)
        let read24 = try AudioFile.read(wav24)
        #expect(compare(read24.channels[0], tone).maxAbs <= 1.0 / 8_388_608)

        let ogg = folder.appendingPathComponent("tone.ogg")
        try AudioFile.write(AudioBuffer(mono: tone, sampleRate: 16000), to: ogg)
        let readOgg = try AudioFile.read(ogg)
        #expect(readOgg.sampleRate == 16000)
        // Vorbis is lossy and may delay the signal slightly; the level must survive.
        let rms = { (x: [Float]) in (x.reduce(0) { $0 + Double($1 * $1) } / Double(x.count)).squareRoot() }
        #expect(abs(20 * log10(rms(readOgg.channels[0]) / rms(tone))) < 0.5)
    }

    @Test("stereo is mixed to mono by averaging the channels")
    func mixdown() {
        let buffer = AudioBuffer(channels: [[1, 0.5, -1], [0, 0.5, 1]], sampleRate: 8000)
        #expect(buffer.mixedToMono().channels == [[0.5, 0.5, 0]])
    }

    @Test("writes are atomic and leave no temporary file behind")
    func atomicWrite() throws {
        let url = folder.appendingPathComponent("out.wav")
        try AudioFile.write(AudioBuffer(mono: [0.1, 0.2], sampleRate: 16000), to: url)
        try AudioFile.write(AudioBuffer(mono: [0.3, 0.4, 0.5], sampleRate: 16000), to: url)
        #expect(try AudioFile.read(url).frameCount == 3)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["out.wav"])
    }

    @Test("a missing file is reported as missing")
    func missing() {
        let url = folder.appendingPathComponent("nothing.wav")
        #expect(throws: AudioFileError.missing(path: url.path)) { try AudioFile.read(url) }
    }

    @Test("random bytes and a truncated header are unreadable, not a crash")
    func unreadable() throws {
        let garbage = folder.appendingPathComponent("garbage.wav")
        try Data((0..<4096).map { UInt8(($0 * 7919) % 251) }).write(to: garbage)
        let truncated = folder.appendingPathComponent("truncated.wav")
        try Data("RIFF\u{0}\u{0}".utf8).write(to: truncated)
        let empty = folder.appendingPathComponent("zero-bytes.wav")
        try Data().write(to: empty)
        for url in [garbage, truncated, empty] {
            #expect {
                try AudioFile.read(url)
            } throws: { error in
                guard case .unreadable(let path, _) = error as? AudioFileError else { return false }
                return path == url.path
            }
        }
    }

    @Test("a file with no samples is reported as empty")
    func emptyClip() throws {
        let url = folder.appendingPathComponent("empty.wav")
        try AudioFile.write(AudioBuffer(mono: [], sampleRate: 16000), to: url)
        #expect(throws: AudioFileError.empty(path: url.path)) { try AudioFile.read(url) }
    }

    @Test("NaN samples in a float file are refused")
    func nanSamples() throws {
        let url = folder.appendingPathComponent("nan.wav")
        try AudioFile.write(AudioBuffer(mono: [0, .nan, 0.5], sampleRate: 16000), to: url, encoding: .float32)
        #expect(throws: AudioFileError.nonFiniteSamples(path: url.path)) { try AudioFile.read(url) }
    }

    @Test("an unknown output extension is refused before anything is written")
    func unsupportedExtension() throws {
        let url = folder.appendingPathComponent("out.mp4")
        #expect(throws: AudioFileError.unsupportedExtension(path: url.path)) {
            try AudioFile.write(AudioBuffer(mono: [0], sampleRate: 16000), to: url)
        }
        #expect(!FileManager.default.fileExists(atPath: url.path))
    }

    @Test("writing over an input file is refused and the input is untouched")
    func protectsInputs() throws {
        let url = folder.appendingPathComponent("input.wav")
        try AudioFile.write(AudioBuffer(mono: [0.25], sampleRate: 16000), to: url)
        let before = try Data(contentsOf: url)
        #expect(throws: AudioFileError.wouldOverwriteInput(path: url.path)) {
            try AudioFile.write(AudioBuffer(mono: [0.5], sampleRate: 16000), to: url, protecting: [url])
        }
        #expect(try Data(contentsOf: url) == before)
    }
}
