import AudioDSP
import Foundation
import Pipeline

/// The format an edited file is written in where it differs from the input's (docs/editing.md,
/// "The file's own format"): each field `nil` keeps the input's.
public struct OutputFormat: Sendable, Equatable {
    /// The rates (Hz) and channel counts an output may have.
    public static let sampleRates = 1_000...768_000
    public static let channelCounts = 1...64

    /// The output's sample rate, Hz (the whole file is resampled when it differs from the input's).
    public var sampleRate: Int?
    /// The output's channel count: 1 (the channels averaged), the input's, or any from a mono input.
    public var channelCount: Int?
    /// How samples are stored, as far as the output's container holds it (``EditedFile/notes(writingTo:)`` says when not).
    public var encoding: SampleEncoding?

    public init(sampleRate: Int? = nil, channelCount: Int? = nil, encoding: SampleEncoding? = nil) {
        (self.sampleRate, self.channelCount, self.encoding) = (sampleRate, channelCount, encoding)
    }

    /// - Throws: ``PipelineError/invalidValue(field:reason:)`` naming `sample_rate` or `channels`.
    public func validate() throws {
        if let sampleRate, !Self.sampleRates.contains(sampleRate) {
            let range = Self.sampleRates
            throw PipelineError.invalidValue(field: "sample_rate", reason: "must be between \(range.lowerBound) and \(range.upperBound) Hz, got \(sampleRate)")
        }
        if let channelCount, !Self.channelCounts.contains(channelCount) {
            let range = Self.channelCounts
            throw PipelineError.invalidValue(field: "channels", reason: "must be between \(range.lowerBound) and \(range.upperBound), got \(channelCount)")
        }
    }
}

/// A file being read as the original of an edit: frames by range through an ``AudioReader``.
public final class OriginalFile: OriginalAudio {
    public let sampleRate: Double
    public let channelCount: Int
    public let frameCount: Int
    private let reader: AudioReader

    /// Opens `url`; its length is the header's, or counted by reading it through once when the
    /// header does not say (streams of unknown length).
    public init(_ url: URL) throws {
        reader = try AudioReader(url)
        sampleRate = reader.sampleRate
        channelCount = reader.channelCount
        if let declared = reader.declaredFrameCount {
            frameCount = declared
        } else {
            let counter = try AudioReader(url)
            while try counter.read(maximumFrames: counter.suggestedChunkFrames) != nil {}
            frameCount = counter.position
        }
    }

    public func frames(_ range: Range<Int>) throws -> AudioBuffer {
        let read = try reader.read(frames: range)
        guard read.frameCount < range.count else { return read }
        return AudioBuffer(channels: read.channels.map { $0 + [Float](repeating: 0, count: range.count - read.frameCount) },
                           sampleRate: sampleRate)
    }
}

/// The output of an edit of a user's file: the file itself, in its own format, with the edit's
/// fills spliced in (docs/editing.md, "The file's own format").
///
/// By default the output has the input's sample rate, channel count and sample encoding, in the
/// container the output's extension names; outside the fills' ranges every frame is copied from
/// the input as stored (``AudioFile/splice(_:into:to:encoding:protecting:)``), bit for bit when
/// the output's encoding holds the input's samples. ``overrides`` change the format; a different
/// rate or channel count converts the whole file
/// (libsamplerate; channels averaged to mono, or mono copied to every channel) and nothing is
/// copied. ``notes(writingTo:)`` says what cannot be kept.
public struct EditedFile: Sendable {
    /// The input file.
    public let source: URL
    /// The input's format.
    public let format: AudioFileFormat
    /// How fills are brought to the file.
    public var placement = FillPlacement()
    /// What the output changes of the input's format.
    public var overrides = OutputFormat()

    /// The file at `source`, whose format is read now.
    /// - Throws: ``AudioFileError`` when it cannot be opened.
    public init(source: URL) throws {
        self.source = source
        format = try AudioReader(source).format
    }

    /// The output's sample rate, Hz, and channel count.
    public var outputRate: Double { overrides.sampleRate.map(Double.init) ?? format.sampleRate }
    public var outputChannels: Int { overrides.channelCount ?? format.channelCount }
    private var converts: Bool { outputRate != format.sampleRate || outputChannels != format.channelCount }

    /// The encoding the output at `url` gets: the override, else the input's (24-bit PCM for an
    /// input whose encoding the toolkit does not write: 8-bit, µ-law, ADPCM, Vorbis, MP3, …), as
    /// the container holds it; `nil` for OGG/Vorbis.
    public func outputEncoding(for url: URL) -> SampleEncoding? {
        AudioContainer(path: url)?.encoding(closestTo: overrides.encoding ?? format.encoding ?? .pcm24)
    }

    /// What the output at `url` cannot keep of the input, one sentence each (empty when every
    /// sample outside the edit is the input's bit for bit).
    public func notes(writingTo url: URL) -> [String] {
        var notes: [String] = []
        let name = url.lastPathComponent
        if !format.isLossless {
            notes.append("\(source.lastPathComponent) is lossy (\(format.subtypeName)): its decoded samples are kept, not its encoding")
        }
        if AudioContainer(path: url)?.isLossy == true {
            notes.append("\(name) is Ogg/Vorbis, which re-encodes every sample, outside the edit too; write .flac or .wav to keep them")
        } else if let written = outputEncoding(for: url), let asked = overrides.encoding, written != asked {
            notes.append("\(name) cannot hold \(asked.rawValue) samples: writing \(written.rawValue); write .wav for \(asked.rawValue)")
        } else if let written = outputEncoding(for: url), let own = format.encoding, overrides.encoding == nil, written != own {
            notes.append("\(name) cannot hold \(format.subtypeName) samples: writing \(written.rawValue), which rounds them; "
                         + "write .wav to keep them")
        }
        if converts {
            notes.append("the output is converted to \(outputChannels) channel(s) at \(Int(outputRate)) Hz: "
                         + "samples outside the edit are converted, not copied")
        }
        return notes
    }

    /// Checks the overrides, and against the input, before any work.
    /// - Throws: ``OutputFormat/validate()``'s errors, ``EditingError/unsupportedChannels(from:to:)``.
    public func validate() throws {
        try overrides.validate()
        let (from, to) = (format.channelCount, outputChannels)
        guard from == to || from == 1 || to == 1 else { throw EditingError.unsupportedChannels(from: from, to: to) }
    }

    /// Writes the input with `fills` spliced in to `url`, atomically; returns what was done to each fill.
    /// - Parameter inputs: files that must not be overwritten (the source always is one).
    /// - Throws: ``AudioFileError``, ``EditingError/unsupportedChannels(from:to:)``, resampling errors.
    @discardableResult
    public func write(_ fills: [Fill], to url: URL, protecting inputs: [URL] = []) throws -> [FillReport] {
        guard AudioContainer(path: url) != nil else { throw AudioFileError.unsupportedExtension(path: url.path) }
        try validate()
        let encoding = outputEncoding(for: url) ?? .pcm16
        if !converts {
            let (segments, reports) = try place(fills, in: OriginalFile(source))
            try AudioFile.splice(segments, into: source, to: url, encoding: encoding, protecting: inputs)
            return reports
        }
        let original = try converted(AudioFile.read(source))
        let (segments, reports) = try place(fills, in: original)
        try AudioFile.write(original.splicing(segments), to: url, encoding: encoding, protecting: inputs + [source])
        return reports
    }

    /// The segments of `fills` in `original`, in order.
    func place(_ fills: [Fill], in original: some OriginalAudio) throws -> ([AudioSegment], [FillReport]) {
        let placed = try fills.compactMap { try placement.segment(for: $0, in: original) }
        return (placed.map(\.0), placed.map(\.1))
    }

    /// `audio` at the output's rate and channel count.
    private func converted(_ audio: AudioBuffer) throws -> AudioBuffer {
        let channels = switch (audio.channelCount, outputChannels) {
        case let (from, to) where from == to: audio.channels
        case (_, 1): [audio.monoSamples]
        case (_, let to): Array(repeating: audio.channels[0], count: to)   // from mono (validate())
        }
        return try Resampler.resample(AudioBuffer(channels: channels, sampleRate: audio.sampleRate), to: outputRate)
    }
}
