import AudioDSP
import Foundation
import Testing
import TestSupport

/// Streams of unknown length, damaged streams and the decoded-size limit: the reproductions of
/// issue #22 (a truncated Ogg and a FLAC with `total_samples = 0` crashed the whole-file read,
/// which allocated the `INT64_MAX` frames libsndfile reports for them).
@Suite("Audio read in pieces")
struct AudioReaderTests {
    let folder: URL

    init() throws { folder = try Fixtures.temporaryDirectory() }

    /// 3 s of a 440 Hz tone, with a 660 Hz tone on the second channel when stereo.
    private func tone(channels: Int = 1, seconds: Double = 3, rate: Double = 16000) -> AudioBuffer {
        let frames = Int(seconds * rate)
        return AudioBuffer(channels: (0..<channels).map { channel in
            (0..<frames).map { Float(0.4 * sin(2 * Double.pi * (440 + 220 * Double(channel)) * Double($0) / rate)) }
        }, sampleRate: rate)
    }

    /// A FLAC file whose STREAMINFO says `total_samples = 0` ("unknown"), as streaming encoders write.
    private func flacOfUnknownLength(_ buffer: AudioBuffer) throws -> URL {
        let url = folder.appendingPathComponent("streamed.flac")
        try AudioFile.write(buffer, to: url)
        var bytes = [UInt8](try Data(contentsOf: url))
        // "fLaC", a 4-byte block header, then STREAMINFO: the 36-bit total is the low nibble
        // of byte 21 and bytes 22–25.
        #expect(Array(bytes[0..<4]) == Array("fLaC".utf8) && bytes[4] & 0x7F == 0)
        bytes[21] &= 0xF0
        for index in 22...25 { bytes[index] = 0 }
        try Data(bytes).write(to: url)
        return url
    }

    @Test("a FLAC with total_samples = 0 reads whole, sample for sample")
    func flacOfUnknownLengthReads() throws {
        let original = tone(channels: 2)
        let url = try flacOfUnknownLength(original)
        #expect(try AudioReader(url).declaredFrameCount == nil)
        let read = try AudioFile.read(url)
        #expect(read.frameCount == original.frameCount)
        #expect(read.channels.map { $0.map { ($0 * 32768).rounded() } } == original.channels.map { $0.map { ($0 * 32768).rounded() } })
    }

    @Test("an Ogg Vorbis file missing its last 35 bytes reads or fails with one error, never crashes")
    func truncatedOgg() throws {
        let url = folder.appendingPathComponent("truncated.ogg")
        try AudioFile.write(tone(), to: url)
        let bytes = try Data(contentsOf: url)
        try bytes.prefix(bytes.count - 35).write(to: url)
        do {
            let read = try AudioFile.read(url)
            #expect(read.frameCount > 0 && read.frameCount <= 48000 + 4096)
        } catch let error as AudioFileError {
            guard case .unreadable = error else { Issue.record("unexpected \(error)"); return }
        }
    }

    @Test("a stream of unknown length longer than the limit is refused while reading")
    func limitOnUnknownLength() throws {
        let url = try flacOfUnknownLength(tone(channels: 2))
        let limits = AudioReadLimits(maximumDecodedBytes: 100_000)  // 12 500 stereo frames
        #expect(throws: AudioFileError.tooLarge(path: url.path, limitBytes: 100_000)) {
            try AudioFile.read(url, limits: limits)
        }
    }

    @Test("a declared length over the limit is refused before reading")
    func limitOnDeclaredLength() throws {
        let url = folder.appendingPathComponent("long.wav")
        try AudioFile.write(tone(seconds: 1), to: url)
        #expect(throws: AudioFileError.tooLarge(path: url.path, limitBytes: 1000)) {
            try AudioFile.read(url, limits: AudioReadLimits(maximumDecodedBytes: 1000))
        }
        #expect(try AudioFile.read(url, limits: AudioReadLimits(maximumDecodedBytes: 64000)).frameCount == 16000)
    }

    @Test("the limit comes from AUFFUSION_MAX_AUDIO_MB, and a bad value is one clear error")
    func limitFromEnvironment() throws {
        #expect(try AudioReadLimits.fromEnvironment([:]) == .standard)
        #expect(try AudioReadLimits.fromEnvironment(["AUFFUSION_MAX_AUDIO_MB": "16"]).maximumDecodedBytes == 16 << 20)
        for bad in ["0", "-3", "lots", "99999999999"] {
            #expect(throws: AudioFileError.invalidLimit(variable: "AUFFUSION_MAX_AUDIO_MB", value: bad)) {
                try AudioReadLimits.fromEnvironment(["AUFFUSION_MAX_AUDIO_MB": bad])
            }
        }
    }

    @Test("chunks and windows give the samples of the whole read")
    func chunksAndWindows() throws {
        let url = folder.appendingPathComponent("stereo.wav")
        try AudioFile.write(tone(channels: 2), to: url, encoding: .float32)
        let whole = try AudioFile.read(url)
        let reader = try AudioReader(url)
        #expect(reader.declaredFrameCount == 48000 && reader.channelCount == 2 && reader.sampleRate == 16000)
        var chunked = [[Float]](repeating: [], count: 2)
        while let chunk = try reader.read(maximumFrames: 5000) {
            #expect(chunk.frameCount <= 5000)
            for channel in 0..<2 { chunked[channel] += chunk.channels[channel] }
        }
        #expect(chunked == whole.channels)
        let window = try reader.read(frames: 16000..<20000)
        #expect(window.channels.map { $0 } == whole.channels.map { Array($0[16000..<20000]) })
        let tail = try reader.read(frames: 47000..<60000)
        #expect(tail.frameCount == 1000)
        #expect(throws: AudioFileError.self) { try reader.read(frames: 48000..<48001) }
    }

    @Test("a FIFO, a folder and a device are refused without blocking")
    func specialFiles() throws {
        let fifo = folder.appendingPathComponent("pipe.wav")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        for url in [fifo, folder, URL(fileURLWithPath: "/dev/zero")] {
            #expect {
                try AudioFile.read(url)
            } throws: { error in
                guard case .unreadable(_, let reason) = error as? AudioFileError else { return false }
                return reason.contains("not a regular file")
            }
        }
    }
}
