import CSndFile
import Compute
import FileOutput
import Foundation

/// How samples are stored in a written file.
public enum SampleEncoding: String, Sendable, CaseIterable {
    /// 16-bit integer PCM (WAV, FLAC, AIFF). Samples are rounded and clipped to [−32768, 32767].
    case pcm16
    /// 24-bit integer PCM (WAV, FLAC, AIFF).
    case pcm24
    /// 32-bit IEEE float (WAV, AIFF); samples are written unchanged.
    case float32
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
    ///   - encoding: sample encoding; ignored for OGG/Vorbis (lossy). FLAC takes `.pcm16` or `.pcm24`.
    ///   - inputs: files this run read; writing over one of them is refused.
    /// - Throws: ``AudioFileError`` for an unknown extension, an input path, or a libsndfile failure.
    public static func write(_ buffer: AudioBuffer, to url: URL, encoding: SampleEncoding = .pcm16,
                             protecting inputs: [URL] = []) throws {
        guard let container = AudioContainer(path: url) else {
            throw AudioFileError.unsupportedExtension(path: url.path)
        }
        do { try AtomicFile.ensure(url, isNotOneOf: inputs) } catch {
            throw AudioFileError.wouldOverwriteInput(path: url.path)
        }
        let temporary = AtomicFile.temporaryURL(besides: url)
        do {
            try writeDirectly(buffer, to: temporary, reportedAs: url, container: container, encoding: encoding)
            try AtomicFile.commit(temporary, to: url)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            if let error = error as? AtomicFile.Error { throw AudioFileError.unwritable(path: url.path, reason: "\(error)") }
            throw error
        }
    }

    private static func formatCode(_ container: AudioContainer, _ encoding: SampleEncoding) -> Int32 {
        let major: Int32 = switch container {
        case .wav: Int32(SF_FORMAT_WAV)
        case .flac: Int32(SF_FORMAT_FLAC)
        case .ogg: Int32(SF_FORMAT_OGG)
        case .aiff: Int32(SF_FORMAT_AIFF)
        }
        let minor: Int32 = switch (container, encoding) {
        case (.ogg, _): Int32(SF_FORMAT_VORBIS)
        case (.flac, .float32), (_, .pcm24): Int32(SF_FORMAT_PCM_24)
        case (_, .pcm16): Int32(SF_FORMAT_PCM_16)
        case (_, .float32): Int32(SF_FORMAT_FLOAT)
        }
        return major | minor
    }

    private static func writeDirectly(_ buffer: AudioBuffer, to path: URL, reportedAs url: URL,
                                      container: AudioContainer, encoding: SampleEncoding) throws {
        var info = SF_INFO()
        info.samplerate = Int32(buffer.sampleRate.rounded())
        info.channels = Int32(buffer.channelCount)
        info.format = formatCode(container, encoding)
        guard sf_format_check(&info) != 0 else {
            throw AudioFileError.unwritable(path: url.path, reason: "libsndfile cannot write \(container) at \(info.samplerate) Hz")
        }
        guard let file = sf_open(path.path, Int32(SFM_WRITE), &info) else {
            throw AudioFileError.unwritable(path: url.path, reason: String(cString: sf_strerror(nil)))
        }
        let frames = buffer.frameCount, channelCount = buffer.channelCount
        var interleaved = [Float](repeating: 0, count: frames * channelCount)
        for (channel, samples) in buffer.channels.enumerated() {
            for frame in 0..<frames { interleaved[frame * channelCount + channel] = samples[frame] }
        }
        let written: Int
        if container != .ogg && encoding == .pcm16 {
            // Scale by 2¹⁵ ourselves (libsndfile would use 2¹⁵−1), so a 16-bit file read and
            // written again is bit-identical.
            let shorts = interleaved.map { Int16(clamping: Int(($0 * 32768).rounded())) }
            written = shorts.withUnsafeBufferPointer { Int(sf_writef_short(file, $0.baseAddress, sf_count_t(frames))) }
        } else {
            if container != .ogg && encoding != .float32 {
                sf_command(file, Int32(SFC_SET_CLIPPING), nil, Int32(SF_TRUE))
            }
            written = interleaved.withUnsafeBufferPointer { Int(sf_writef_float(file, $0.baseAddress, sf_count_t(frames))) }
        }
        let closeStatus = sf_close(file)
        guard written == frames, closeStatus == 0 else {
            throw AudioFileError.unwritable(path: url.path, reason: "wrote \(written) of \(frames) frames")
        }
    }
}
