import CSndFile
import FileOutput
import Foundation

/// An audio file open for writing through libsndfile in one container and sample encoding, fed
/// in pieces: samples as ``AudioBuffer``s, or frames copied exactly from a file being read.
///
/// Integer encodings are written through libsndfile's 32-bit `int` interface with our own
/// rounding (``SampleEncoding``); libsndfile's float interface would scale by 2^(b−1) − 1 and
/// change every sample of a file read and written again.
final class SoundFileWriter {
    let url: URL
    let path: URL
    let container: AudioContainer
    let channelCount: Int
    /// The encoding written; `nil` for OGG/Vorbis.
    let encoding: SampleEncoding?
    private(set) var framesWritten = 0
    private let file: OpaquePointer
    private var isOpen = true

    init(path: URL, reportedAs url: URL, container: AudioContainer, encoding: SampleEncoding?, sampleRate: Double,
         channelCount: Int) throws {
        self.url = url
        self.path = path
        self.container = container
        self.channelCount = channelCount
        self.encoding = encoding
        guard let rate = Int32(exactly: sampleRate.rounded()), rate > 0, let channels = Int32(exactly: channelCount), channels > 0 else {
            throw AudioFileError.unwritable(path: url.path, reason: "a file of \(channelCount) channels at \(sampleRate) Hz cannot be written")
        }
        var info = SF_INFO()
        info.samplerate = rate
        info.channels = channels
        info.format = Self.formatCode(container, encoding)
        guard sf_format_check(&info) != 0 else {
            throw AudioFileError.unwritable(path: url.path, reason: "libsndfile cannot write \(container) "
                                            + "with \(channelCount) channels at \(info.samplerate) Hz")
        }
        guard let file = sf_open(path.path, Int32(SFM_WRITE), &info) else {
            throw AudioFileError.unwritable(path: url.path, reason: String(cString: sf_strerror(nil)))
        }
        self.file = file
    }

    deinit { if isOpen { sf_close(file) } }

    private static func formatCode(_ container: AudioContainer, _ encoding: SampleEncoding?) -> Int32 {
        let major: Int32 = switch container {
        case .wav: Int32(SF_FORMAT_WAV)
        case .flac: Int32(SF_FORMAT_FLAC)
        case .ogg: Int32(SF_FORMAT_OGG)
        case .aiff: Int32(SF_FORMAT_AIFF)
        }
        let minor: Int32 = switch encoding {
        case nil: Int32(SF_FORMAT_VORBIS)
        case .pcm16: Int32(SF_FORMAT_PCM_16)
        case .pcm24: Int32(SF_FORMAT_PCM_24)
        case .pcm32: Int32(SF_FORMAT_PCM_32)
        case .float32: Int32(SF_FORMAT_FLOAT)
        case .float64: Int32(SF_FORMAT_DOUBLE)
        }
        return major | minor
    }

    /// Appends `buffer`'s frames (its channel count must be the file's).
    func write(_ buffer: AudioBuffer) throws {
        precondition(buffer.channelCount == channelCount, "SoundFileWriter: \(buffer.channelCount) channels, expected \(channelCount)")
        var interleaved = [Double](repeating: 0, count: buffer.frameCount * channelCount)
        for (channel, samples) in buffer.channels.enumerated() {
            for frame in samples.indices { interleaved[frame * channelCount + channel] = Double(samples[frame]) }
        }
        try write(interleaved)
    }

    /// Appends interleaved samples in [−1, 1): rounded and clipped for an integer encoding.
    func write(_ interleaved: [Double]) throws {
        guard let bits = encoding?.integerBits else {
            try check(interleaved.withUnsafeBufferPointer { sf_writef_double(file, $0.baseAddress, frames(interleaved)) },
                      interleaved)
            return
        }
        let scale = Double(1 << (bits - 1)), limit = scale - 1, shift = Int32(32 - bits)
        let integers = interleaved.map { sample -> Int32 in
            sample.isFinite ? Int32(min(max((sample * scale).rounded(), -scale), limit)) << shift : 0
        }
        try writeExactly(integers)
    }

    /// Appends interleaved left-justified 32-bit integers, as `sf_readf_int` reads them: exact
    /// whenever the encoding has at least the bits the values use (else rounded to its steps).
    func write(exactly integers: [Int32]) throws {
        guard let bits = encoding?.integerBits else {
            try write(integers.map { Double($0) / 2_147_483_648 })
            return
        }
        let shift = Int32(32 - bits)
        let lowBits = bits == 32 ? 0 : (Int32(1) << shift) - 1
        guard integers.contains(where: { $0 & lowBits != 0 }) else { return try writeExactly(integers) }
        try write(integers.map { Double($0) / 2_147_483_648 })
    }

    private func writeExactly(_ integers: [Int32]) throws {
        try check(integers.withUnsafeBufferPointer { sf_writef_int(file, $0.baseAddress, frames(integers)) }, integers)
    }

    private func frames<T>(_ interleaved: [T]) -> sf_count_t { sf_count_t(interleaved.count / channelCount) }

    private func check<T>(_ written: sf_count_t, _ interleaved: [T]) throws {
        let code = errno   // the failed write's, before any other call
        let expected = interleaved.count / channelCount
        framesWritten += Int(written)
        guard Int(written) == expected else {
            if AtomicFile.meansNoSpace(code) { throw AudioFileError.noSpace(path: url.path) }
            throw AudioFileError.unwritable(path: url.path, reason: "wrote \(written) of \(expected) frames: "
                                            + String(cString: sf_strerror(file)))
        }
    }

    /// Finishes the file (libsndfile writes its header and flushes). A FLAC or Ogg stream is then
    /// read back: libsndfile does not report their encoders' failed writes, so a full disk would
    /// otherwise leave a shorter file that passes for finished.
    func close() throws {
        isOpen = false
        errno = 0
        let closed = sf_close(file) == 0
        let code = errno   // a failed write of the encoder's last frames, which libsndfile does not report
        if AtomicFile.meansNoSpace(code) { throw AudioFileError.noSpace(path: url.path) }
        guard closed else {
            throw AudioFileError.unwritable(path: url.path, reason: "closing the file failed after \(framesWritten) frames")
        }
        guard container == .flac || container == .ogg else { return }
        let decodable = try? AudioReader(path).countRemainingFrames()
        guard decodable == framesWritten else {
            throw AudioFileError.unwritable(path: url.path, reason: "the written file decodes to \(decodable.map(String.init) ?? "no") "
                                            + "of \(framesWritten) frames (is the disk full?)")
        }
    }
}
