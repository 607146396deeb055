import AudioDSP
import Foundation
import Testing
import TestSupport

/// The finishing step of an edit writes the user's file back: its format, and outside the
/// edited frames the very samples it stores.
@Suite("Splicing into a file keeps its format and its samples")
struct AudioSpliceTests {
    let folder: URL

    init() throws { folder = try Fixtures.temporaryDirectory() }

    /// Two channels of different noise at 44.1 kHz, quantised to `bits` (or float when `nil`).
    private func noise(frames: Int, bits: Int?) -> AudioBuffer {
        var generator = SystemRandomNumberGenerator()
        let channels = (0..<2).map { channel in
            (0..<frames).map { _ -> Float in
                let value = Float.random(in: -0.5...0.5, using: &generator) * (channel == 0 ? 1 : 0.3)
                guard let bits else { return value }
                let scale = Float(1 << (bits - 1))
                return (value * scale).rounded() / scale + 0   // + 0: no negative zero, which no file stores
            }
        }
        return AudioBuffer(channels: channels, sampleRate: 44_100)
    }

    /// The payload of a WAV file's `data` chunk: the samples as stored.
    private func wavData(_ url: URL) throws -> Data {
        let bytes = try Data(contentsOf: url)
        var offset = 12
        while offset + 8 <= bytes.count {
            let size = bytes[(offset + 4)..<(offset + 8)].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            if bytes[offset..<(offset + 4)].elementsEqual("data".utf8) { return bytes[(offset + 8)..<(offset + 8 + size)] }
            offset += 8 + size + size % 2
        }
        throw AudioFileError.unreadable(path: url.path, reason: "no data chunk")
    }

    /// A 32-bit PCM stereo WAV whose samples use all 32 bits (a Float cannot hold them), written by hand.
    private func fullWidthPCM32(frames: Int, to url: URL) throws {
        var payload = Data()
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<(frames * 2) { withUnsafeBytes(of: Int32.random(in: .min ... .max, using: &generator).littleEndian) { payload.append(contentsOf: $0) } }
        func le<T: FixedWidthInteger>(_ value: T) -> Data { withUnsafeBytes(of: value.littleEndian) { Data($0) } }
        var file = Data("RIFF".utf8) + le(UInt32(36 + payload.count)) + Data("WAVEfmt ".utf8) + le(UInt32(16))
        file += le(UInt16(1)) + le(UInt16(2)) + le(UInt32(44_100)) + le(UInt32(44_100 * 8)) + le(UInt16(8)) + le(UInt16(32))
        file += Data("data".utf8) + le(UInt32(payload.count)) + payload
        try file.write(to: url)
    }

    @Test("a segment spliced into WAV/FLAC/AIFF files of every encoding: same rate, channels, encoding and length; every other sample bit for bit",
          arguments: [("wav", SampleEncoding.pcm16), ("wav", .pcm24), ("wav", .float32), ("wav", .float64), ("flac", .pcm16),
                      ("flac", .pcm24), ("aiff", .pcm24)])
    func splice(_ ext: String, _ encoding: SampleEncoding) throws {
        let input = folder.appendingPathComponent("in-\(encoding).\(ext)"), output = folder.appendingPathComponent("out-\(encoding).\(ext)")
        let original = noise(frames: 50_000, bits: encoding.integerBits)
        try AudioFile.write(original, to: input, encoding: encoding)
        let replacement = noise(frames: 7_000, bits: nil)
        try AudioFile.splice([AudioSegment(start: 20_000, audio: replacement)], into: input, to: output, encoding: encoding)

        let (before, after) = (try AudioReader(input).format, try AudioReader(output).format)
        #expect(after == before && after.encoding == encoding && after.sampleRate == 44_100 && after.channelCount == 2)
        let read = try AudioFile.read(output)
        #expect(read.frameCount == original.frameCount)
        let edited = 20_000..<27_000
        for channel in 0..<2 {
            let outside = read.channels[channel].indices.filter { !edited.contains($0) }
            #expect(outside.allSatisfy { read.channels[channel][$0].bitPattern == original.channels[channel][$0].bitPattern })
            let step = encoding.integerBits.map { 1 / Float(1 << ($0 - 1)) } ?? 0
            #expect(edited.allSatisfy { abs(read.channels[channel][$0] - replacement.channels[channel][$0 - 20_000]) <= step / 2 })
        }
        if ext == "wav" {
            let (a, b) = (try wavData(input), try wavData(output))
            let frameBytes = a.count / original.frameCount
            #expect(a.count == b.count)
            #expect(a.prefix(20_000 * frameBytes) == b.prefix(20_000 * frameBytes))
            #expect(a.dropFirst(27_000 * frameBytes) == b.dropFirst(27_000 * frameBytes))
        }
    }

    @Test("32-bit integer samples (beyond a Float's precision) are copied bit for bit around a segment")
    func fullWidthIntegers() throws {
        let input = folder.appendingPathComponent("in32.wav"), output = folder.appendingPathComponent("out32.wav")
        try fullWidthPCM32(frames: 10_000, to: input)
        #expect(try AudioReader(input).format.encoding == .pcm32)
        try AudioFile.splice([AudioSegment(start: 4_000, audio: noise(frames: 1_000, bits: nil))], into: input, to: output,
                             encoding: .pcm32)
        let (a, b) = (try wavData(input), try wavData(output))
        #expect(a.count == b.count && a.prefix(4_000 * 8) == b.prefix(4_000 * 8) && a.dropFirst(5_000 * 8) == b.dropFirst(5_000 * 8))
        #expect(a.dropFirst(4_000 * 8).prefix(1_000 * 8) != b.dropFirst(4_000 * 8).prefix(1_000 * 8))
    }

    @Test("a 16-bit input written as 24-bit keeps its values; the formats of lossy and lossless files are told apart")
    func widerEncodingAndFormats() throws {
        let input = folder.appendingPathComponent("in16.wav"), output = folder.appendingPathComponent("out24.flac")
        let original = noise(frames: 8_000, bits: 16)
        try AudioFile.write(original, to: input, encoding: .pcm16)
        try AudioFile.splice([AudioSegment(start: 100, audio: noise(frames: 10, bits: nil))], into: input, to: output,
                             encoding: .pcm24)
        let read = try AudioFile.read(output)
        #expect(read.channels[1][200...] == original.channels[1][200...])
        #expect(try AudioReader(output).format.encoding == .pcm24)
        let ogg = folder.appendingPathComponent("lossy.ogg")
        try AudioFile.write(original, to: ogg)
        let lossy = try AudioReader(ogg).format
        #expect(!lossy.isLossless && lossy.encoding == nil && lossy.subtypeName == "VORBIS")
        #expect(try AudioReader(input).format.isLossless)
    }

    @Test("the original is never the output")
    func protectsOriginal() throws {
        let input = folder.appendingPathComponent("keep.wav")
        try AudioFile.write(noise(frames: 100, bits: 16), to: input)
        #expect(throws: AudioFileError.wouldOverwriteInput(path: input.path)) {
            try AudioFile.splice([], into: input, to: input, encoding: .pcm16)
        }
    }
}
