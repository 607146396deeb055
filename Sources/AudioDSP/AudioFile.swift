import CSndFile
import Compute
import FileOutput
import Foundation

/// How samples are stored in a written file.
///
/// Integer encodings of b bits hold steps of 2^−(b−1): a sample is rounded to the nearest step and
/// clipped to [−1, 1 − 2^−(b−1)], the inverse of how libsndfile reads them (it divides by
/// 2^(b−1)), so a sample read from a b-bit file writes back as itself.
public enum SampleEncoding: String, Sendable, CaseIterable {
    /// 16-bit integer PCM (WAV, FLAC, AIFF).
    case pcm16
    /// 24-bit integer PCM (WAV, FLAC, AIFF).
    case pcm24
    /// 32-bit integer PCM (WAV, AIFF).
    case pcm32
    /// 32-bit IEEE float (WAV, AIFF); samples are written unchanged.
    case float32
    /// 64-bit IEEE float (WAV, AIFF).
    case float64

    /// The bits of an integer encoding; `nil` for float.
    public var integerBits: Int? {
        switch self {
        case .pcm16: 16
        case .pcm24: 24
        case .pcm32: 32
        case .float32, .float64: nil
        }
    }
}

/// Container formats the toolkit writes, chosen from the output file's extension.
public enum AudioContainer: String, Sendable, CaseIterable {
    case wav, flac, ogg, aiff

    /// The container for a path's extension (`.wav`, `.flac`, `.ogg`/`.oga`, `.aif`/`.aiff`), if any.
    public init?(path: URL) {
        switch path.pathExtension.lowercased() {
        case "wav", "wave": self = .wav
        case "flac": self = .flac
        case "ogg", "oga": self = .ogg
        case "aif", "aiff": self = .aiff
        default: return nil
        }
    }

    /// Whether the container re-encodes with loss (OGG/Vorbis): nothing written to it is kept bit for bit.
    public var isLossy: Bool { self == .ogg }

    /// The encoding this container stores for `requested`: itself, except that FLAC holds only
    /// 16 or 24-bit integers (anything wider becomes 24-bit); `nil` for OGG/Vorbis, which has none.
    public func encoding(closestTo requested: SampleEncoding) -> SampleEncoding? {
        switch self {
        case .ogg: nil
        case .flac: requested == .pcm16 ? .pcm16 : .pcm24
        case .wav, .aiff: requested
        }
    }
}

/// Reads and writes audio files through libsndfile.
///
/// Reading accepts every format libsndfile decodes (WAV with 8/16/24/32-bit integer or float
/// samples, FLAC, OGG/Vorbis, AIFF, …) and returns samples scaled to [−1, 1) as libsndfile
/// normalises them (integer PCM divided by 2¹⁵, 2²³ or 2³¹), so 16-bit data reads exactly as the
/// reference's `int16 / 32768`. Writing takes the format from the extension and is atomic.
public enum AudioFile {
    /// Reads every channel of an audio file, whole.
    ///
    /// The file is decoded in bounded chunks until the decoder says the stream has ended (a
    /// declared length is never trusted for an allocation); a file whose decoded samples would
    /// pass `limits` is refused before they are held. For files of any length, read windows
    /// with ``AudioReader``.
    /// - Parameter limits: the decoded-size limit; `nil` for ``AudioReadLimits/fromEnvironment(_:)``.
    /// - Throws: ``AudioFileError`` when the file is missing, not a regular file, undecodable,
    ///   empty, holds NaN/∞, or is longer than the limit.
    public static func read(_ url: URL, limits: AudioReadLimits? = nil) throws -> AudioBuffer {
        let limits = try limits ?? .fromEnvironment()
        let reader = try AudioReader(url)
        let maximumFrames = limits.maximumFrames(channelCount: reader.channelCount)
        let tooLarge = AudioFileError.tooLarge(path: url.path, limitBytes: limits.maximumDecodedBytes)
        if let declared = reader.declaredFrameCount, declared > maximumFrames { throw tooLarge }
        var channels = [[Float]](repeating: [], count: reader.channelCount)
        while let chunk = try reader.read(maximumFrames: reader.suggestedChunkFrames) {
            guard reader.position <= maximumFrames else { throw tooLarge }
            for channel in channels.indices { channels[channel] += chunk.channels[channel] }
        }
        guard !channels[0].isEmpty else {
            guard reader.declaredFrameCount == 0 else {
                throw AudioFileError.unreadable(path: url.path, reason: "no sample decodes (is the file truncated or damaged?)")
            }
            throw AudioFileError.empty(path: url.path)
        }
        return AudioBuffer(channels: channels, sampleRate: reader.sampleRate)
    }

    /// Writes `buffer` to `url` in the container its extension names, atomically.
    ///
    /// - Parameters:
    ///   - encoding: sample encoding, as the container can hold it
    ///     (``AudioContainer/encoding(closestTo:)``); ignored for OGG/Vorbis (lossy).
    ///   - inputs: files this run read; writing over one of them is refused.
    /// - Throws: ``AudioFileError`` for an unknown extension, an input path, or a libsndfile failure.
    public static func write(_ buffer: AudioBuffer, to url: URL, encoding: SampleEncoding = .pcm16,
                             protecting inputs: [URL] = []) throws {
        try refuseNonFinite([buffer], writing: url, encoding: encoding)
        try writeAtomically(to: url, protecting: inputs, sampleRate: buffer.sampleRate, channelCount: buffer.channelCount,
                            encoding: encoding) { writer in try writer.write(buffer) }
    }

    /// Refuses audio holding NaN or infinity before anything is written in an encoding that
    /// cannot hold them (integer PCM, FLAC, Vorbis store them as silence or full scale, so the
    /// file would look fine and be wrong); float WAV and AIFF store them as they are.
    static func refuseNonFinite(_ buffers: [AudioBuffer], writing url: URL, encoding: SampleEncoding) throws {
        let written = AudioContainer(path: url)?.encoding(closestTo: encoding)
        guard written != .float32, written != .float64 else { return }
        guard buffers.allSatisfy({ $0.channels.allSatisfy { $0.allSatisfy(\.isFinite) } }) else {
            throw AudioFileError.unwritable(path: url.path, reason: "the audio holds NaN or infinite samples (a diverged run?); nothing was written")
        }
    }

    /// Opens a ``SoundFileWriter`` on a temporary file beside `url`, lets `body` fill it, and
    /// moves it over `url`; on any failure the temporary file is removed and `url` is untouched.
    static func writeAtomically(to url: URL, protecting inputs: [URL], sampleRate: Double, channelCount: Int,
                                encoding: SampleEncoding, _ body: (SoundFileWriter) throws -> Void) throws {
        guard let container = AudioContainer(path: url) else {
            throw AudioFileError.unsupportedExtension(path: url.path)
        }
        do { try AtomicFile.ensure(url, isNotOneOf: inputs) } catch let error as AtomicFile.Error {
            throw AudioFileError(error)
        }
        let temporary = AtomicFile.temporaryURL(besides: url)
        do {
            let writer = try SoundFileWriter(path: temporary, reportedAs: url, container: container,
                                             encoding: container.encoding(closestTo: encoding),
                                             sampleRate: sampleRate, channelCount: channelCount)
            try body(writer)
            try writer.close()
            try AtomicFile.commit(temporary, to: url)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? AtomicFile.Error { throw AudioFileError(error) }
            throw error
        }
    }
}
