import CSndFile
import Compute
import Foundation

/// An audio file open for reading in pieces: a run that processes a long file window by window
/// reads `[a, b)` or walks the file in chunks, and memory stays bounded whatever its length.
///
/// The length a header declares is only a hint: libsndfile reports `INT64_MAX` frames for a
/// stream of unknown length (Ogg, FLAC with `total_samples = 0`, as streaming encoders write),
/// and a damaged header can claim anything. So nothing is allocated from it; reading goes on
/// until the decoder says the stream has ended. Samples are scaled as ``AudioFile`` says.
///
/// ```swift
/// let reader = try AudioReader(url)
/// while let chunk = try reader.read(maximumFrames: 65_536) {
///     process(chunk)            // an AudioBuffer of at most 65 536 frames
/// }
/// let window = try reader.read(frames: 160_000..<320_000)   // seconds 10–20 at 16 kHz
/// ```
public final class AudioReader {
    /// The file's path, for messages.
    public let path: String
    /// Samples per second, in Hz.
    public let sampleRate: Double
    /// Number of channels.
    public let channelCount: Int
    /// The frame count the header declares, or `nil` when the stream's length is unknown. A
    /// hint only: a damaged file can hold fewer frames (reading stops where its data does).
    public let declaredFrameCount: Int?
    /// The file's rate, channels and sample encoding.
    public let format: AudioFileFormat
    /// The next frame ``read(maximumFrames:)`` returns.
    public private(set) var position = 0
    /// A chunk size that keeps one read under 256 k samples (1 MiB) whatever the channel count.
    public var suggestedChunkFrames: Int { max(1, (1 << 18) / channelCount) }

    private let file: OpaquePointer

    /// Opens an audio file in any format libsndfile decodes.
    /// - Throws: ``AudioFileError`` when the file is missing, not a regular file (a FIFO or a
    ///   device would block or never end) or not decodable.
    public init(_ url: URL) throws {
        path = url.path
        let descriptor: Int32
        do { descriptor = try InputFile.openRegular(url).descriptor } catch let error as InputFile.Error {
            if case .missing = error { throw AudioFileError.missing(path: url.path) }
            throw AudioFileError.unreadable(path: url.path, reason: error.reason)
        }
        var info = SF_INFO()
        guard let file = sf_open_fd(descriptor, Int32(SFM_READ), &info, Int32(SF_TRUE)) else {
            close(descriptor)
            throw AudioFileError.unreadable(path: url.path, reason: String(cString: sf_strerror(nil)))
        }
        guard info.channels > 0, info.samplerate > 0 else {
            sf_close(file)
            throw AudioFileError.unreadable(path: url.path, reason: "invalid channel count or sample rate")
        }
        self.file = file
        channelCount = Int(info.channels)
        sampleRate = Double(info.samplerate)
        format = AudioFileFormat(info)
        declaredFrameCount = info.frames >= 0 && info.frames < Int64.max ? Int(info.frames) : nil
    }

    deinit { sf_close(file) }

    /// The next at most `maximumFrames` frames (and at most 16 × ``suggestedChunkFrames``, 16 MiB
    /// of samples, whatever is asked), or `nil` once the stream has ended.
    /// - Throws: ``AudioFileError/unreadable(path:reason:)`` when decoding fails,
    ///   ``AudioFileError/nonFiniteSamples(path:)`` for NaN or infinite samples.
    public func read(maximumFrames: Int) throws -> AudioBuffer? {
        precondition(maximumFrames > 0, "AudioReader: maximumFrames must be positive")
        let frames = min(maximumFrames, suggestedChunkFrames * 16)
        var interleaved = [Float](repeating: 0, count: frames * channelCount)
        let framesRead = interleaved.withUnsafeMutableBufferPointer {
            Int(sf_readf_float(file, $0.baseAddress, sf_count_t(frames)))
        }
        guard framesRead > 0 else {
            guard sf_error(file) == 0 else {
                throw AudioFileError.unreadable(path: path, reason: String(cString: sf_strerror(file)))
            }
            return nil
        }
        var channels = [[Float]](repeating: [Float](repeating: 0, count: framesRead), count: channelCount)
        for channel in 0..<channelCount {
            channels[channel].withUnsafeMutableBufferPointer { destination in
                for frame in 0..<framesRead { destination[frame] = interleaved[frame * channelCount + channel] }
            }
        }
        guard channels.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { throw AudioFileError.nonFiniteSamples(path: path) }
        position += framesRead
        return AudioBuffer(channels: channels, sampleRate: sampleRate)
    }

    /// The next at most `maximumFrames` frames as the file stores them, interleaved, or `nil` once
    /// the stream has ended: for a file of integers (``AudioFileFormat``), exactly, as libsndfile's
    /// left-justified 32-bit integers; otherwise as doubles. ``SoundFileWriter`` writes them back
    /// bit for bit.
    /// - Throws: as ``read(maximumFrames:)``.
    func readExactly(maximumFrames: Int) throws -> ExactFrames? {
        let frames = min(maximumFrames, suggestedChunkFrames * 16)
        let chunk: ExactFrames
        let framesRead: Int
        if format.isInteger {
            var integers = [Int32](repeating: 0, count: frames * channelCount)
            framesRead = integers.withUnsafeMutableBufferPointer { Int(sf_readf_int(file, $0.baseAddress, sf_count_t(frames))) }
            chunk = .integers(Array(integers.prefix(framesRead * channelCount)))
        } else {
            var reals = [Double](repeating: 0, count: frames * channelCount)
            framesRead = reals.withUnsafeMutableBufferPointer { Int(sf_readf_double(file, $0.baseAddress, sf_count_t(frames))) }
            let samples = Array(reals.prefix(framesRead * channelCount))
            guard samples.allSatisfy(\.isFinite) else { throw AudioFileError.nonFiniteSamples(path: path) }
            chunk = .reals(samples)
        }
        guard framesRead > 0 else {
            guard sf_error(file) == 0 else {
                throw AudioFileError.unreadable(path: path, reason: String(cString: sf_strerror(file)))
            }
            return nil
        }
        position += framesRead
        return chunk
    }

    /// How many frames are left to decode, read to the end in chunks and dropped.
    /// - Throws: as ``read(maximumFrames:)``.
    public func countRemainingFrames() throws -> Int {
        var count = 0
        while let chunk = try read(maximumFrames: suggestedChunkFrames) { count += chunk.frameCount }
        return count
    }

    /// Frames `[a, b)`, or fewer when the stream ends before `b`; reading continues from `b`.
    /// - Throws: ``AudioFileError/unreadable(path:reason:)`` for an empty or negative range, when
    ///   the file cannot seek to `a` or holds no frame there; the errors of ``read(maximumFrames:)``.
    public func read(frames range: Range<Int>) throws -> AudioBuffer {
        guard range.lowerBound >= 0, !range.isEmpty else {
            throw AudioFileError.unreadable(path: path, reason: "frames \(range) are no range to read: it must be non-empty and start at 0 or later")
        }
        if range.lowerBound != position {
            guard sf_seek(file, sf_count_t(range.lowerBound), SEEK_SET) == range.lowerBound else {
                throw AudioFileError.unreadable(path: path, reason: "cannot seek to frame \(range.lowerBound)")
            }
            position = range.lowerBound
        }
        var channels = [[Float]](repeating: [], count: channelCount)
        while position < range.upperBound,
              let chunk = try read(maximumFrames: min(range.upperBound - position, suggestedChunkFrames)) {
            for channel in 0..<channelCount { channels[channel] += chunk.channels[channel] }
        }
        guard !channels[0].isEmpty else {
            throw AudioFileError.unreadable(path: path, reason: "no frames at \(range.lowerBound) (the stream ends before)")
        }
        return AudioBuffer(channels: channels, sampleRate: sampleRate)
    }
}

/// Frames as a file stores them (``AudioReader/readExactly(maximumFrames:)``), interleaved.
enum ExactFrames {
    case integers([Int32])
    case reals([Double])
}

/// How much decoded audio ``AudioFile/read(_:limits:)`` holds in memory.
///
/// A whole file is decoded to Float32: a 2-hour 44.1 kHz stereo recording is 2.5 GB. Files
/// whose samples (frames × channels × 4 bytes) would pass ``maximumDecodedBytes`` are refused
/// with one error, before their declared length is allocated and as soon as reading passes it.
/// The default is 2 GiB; the environment variable `AUFFUSION_MAX_AUDIO_MB` (mebibytes) sets
/// another. Longer files are read in pieces with ``AudioReader``.
public struct AudioReadLimits: Sendable, Equatable {
    /// The environment variable that overrides the default, in MiB.
    public static let environmentVariable = "AUFFUSION_MAX_AUDIO_MB"
    /// 2 GiB of Float32 samples: 9.3 hours of 16 kHz mono, 1.7 hours of 44.1 kHz stereo.
    public static let standard = AudioReadLimits(maximumDecodedBytes: 2 << 30)

    /// The most bytes of decoded Float32 samples a whole-file read may hold.
    public var maximumDecodedBytes: Int

    public init(maximumDecodedBytes: Int) {
        precondition(maximumDecodedBytes > 0, "AudioReadLimits: the limit must be positive")
        self.maximumDecodedBytes = maximumDecodedBytes
    }

    /// ``standard``, or the limit `AUFFUSION_MAX_AUDIO_MB` gives in `environment`.
    /// - Throws: ``AudioFileError/invalidLimit(variable:value:)`` when the variable is not a
    ///   positive whole number of MiB.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws
        -> AudioReadLimits {
        guard let text = environment[environmentVariable] else { return .standard }
        guard let mebibytes = Int(text.trimmingCharacters(in: .whitespaces)), (1...(1 << 30)).contains(mebibytes) else {
            throw AudioFileError.invalidLimit(variable: environmentVariable, value: text.abbreviated(to: 40))
        }
        return AudioReadLimits(maximumDecodedBytes: mebibytes << 20)
    }

    /// The most frames of `channelCount` channels that fit in the limit.
    public func maximumFrames(channelCount: Int) -> Int {
        maximumDecodedBytes / (channelCount * MemoryLayout<Float>.size)
    }
}
