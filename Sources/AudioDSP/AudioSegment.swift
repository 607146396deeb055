import Foundation

/// Frames that replace an original's from ``start`` on: what an edit splices into a file
/// (``AudioFile/splice(_:into:to:encoding:protecting:)``) or into a buffer (``AudioBuffer/splicing(_:)``).
public struct AudioSegment: Sendable {
    /// The first frame of the original replaced.
    public var start: Int
    /// The replacement, at the original's rate and channel count.
    public var audio: AudioBuffer

    public init(start: Int, audio: AudioBuffer) {
        precondition(start >= 0, "AudioSegment: negative start")
        self.start = start
        self.audio = audio
    }

    /// The original's frames this segment replaces.
    public var frames: Range<Int> { start..<start + audio.frameCount }

    /// Checks `segments` against an original of `channelCount` channels at `sampleRate` and
    /// returns them in order. - Precondition: ``mismatch(in:sampleRate:channelCount:)`` finds nothing.
    static func ordered(_ segments: [AudioSegment], sampleRate: Double, channelCount: Int) -> [AudioSegment] {
        let mismatch = mismatch(in: segments, sampleRate: sampleRate, channelCount: channelCount)
        precondition(mismatch == nil, "AudioSegment: \(mismatch ?? "")")
        return segments.sorted { $0.start < $1.start }
    }

    /// Why `segments` cannot replace frames of an original of `channelCount` channels at
    /// `sampleRate`: another rate or channel count, or two that overlap; `nil` when they can.
    static func mismatch(in segments: [AudioSegment], sampleRate: Double, channelCount: Int) -> String? {
        let ordered = segments.sorted { $0.start < $1.start }
        if let other = ordered.first(where: { $0.audio.sampleRate != sampleRate || $0.audio.channelCount != channelCount }) {
            return "a segment of \(other.audio.channelCount) channels at \(other.audio.sampleRate) Hz does not fit an original of \(channelCount) at \(sampleRate) Hz"
        }
        if let (first, _) = zip(ordered, ordered.dropFirst()).first(where: { $0.frames.upperBound > $1.start }) {
            return "the segment at frame \(first.start) overlaps the next"
        }
        return nil
    }
}

extension AudioBuffer {
    /// This buffer with `segments` in place of its frames (a segment's part beyond the end is dropped).
    /// - Precondition: the segments have this buffer's rate and channels and are disjoint.
    public func splicing(_ segments: [AudioSegment]) -> AudioBuffer {
        var spliced = self
        for segment in AudioSegment.ordered(segments, sampleRate: sampleRate, channelCount: channelCount) {
            let frames = segment.frames.clamped(to: 0..<frameCount)
            for channel in channels.indices {
                spliced.channels[channel].replaceSubrange(frames, with: segment.audio.channels[channel].prefix(frames.count))
            }
        }
        return spliced
    }
}

extension AudioFile {
    /// Writes the file at `original` to `url` with `segments` in place of its frames, atomically.
    ///
    /// The original is streamed through in chunks: memory holds the segments and one chunk,
    /// whatever the file's length. Every frame outside the segments is copied as the file stores
    /// it (integers exactly, through libsndfile's 32-bit `int` interface), so it is the input's
    /// bit for bit whenever `encoding` holds the input's samples (a lossless input written with
    /// its own or a wider encoding, in a lossless container). The output has the original's rate,
    /// channels and length, in the container `url`'s extension names.
    /// - Parameters:
    ///   - segments: at the original's rate and channel count, disjoint, within the file.
    ///   - encoding: as ``write(_:to:encoding:protecting:)``.
    ///   - inputs: files that must not be overwritten (`original` always is one).
    /// - Throws: ``AudioFileError`` for an unreadable original, segments that do not fit it, an
    ///   unknown extension, an input path or a libsndfile failure.
    public static func splice(_ segments: [AudioSegment], into original: URL, to url: URL, encoding: SampleEncoding,
                              protecting inputs: [URL] = []) throws {
        try refuseNonFinite(segments.map(\.audio), writing: url, encoding: encoding)
        let reader = try AudioReader(original)
        if let mismatch = AudioSegment.mismatch(in: segments, sampleRate: reader.sampleRate, channelCount: reader.channelCount) {
            throw AudioFileError.unwritable(path: url.path, reason: mismatch)
        }
        if let frames = reader.declaredFrameCount, let beyond = segments.first(where: { $0.frames.upperBound > frames }) {
            throw AudioFileError.unwritable(path: url.path, reason: "a segment ends at frame \(beyond.frames.upperBound), past the original's \(frames)")
        }
        let ordered = AudioSegment.ordered(segments, sampleRate: reader.sampleRate, channelCount: reader.channelCount)
        try writeAtomically(to: url, protecting: inputs + [original], sampleRate: reader.sampleRate,
                            channelCount: reader.channelCount, encoding: encoding) { writer in
            /// Reads up to frame `end` (to the end of the stream when `nil`), writing what it reads when `keeping`.
            func copy(until end: Int?, keeping: Bool) throws {
                while end.map({ reader.position < $0 }) ?? true,
                      let chunk = try reader.readExactly(maximumFrames: min(end.map { $0 - reader.position } ?? .max,
                                                                             reader.suggestedChunkFrames)) {
                    guard keeping else { continue }
                    switch chunk {
                    case .integers(let integers): try writer.write(exactly: integers)
                    case .reals(let reals): try writer.write(reals)
                    }
                }
            }
            for segment in ordered {
                try copy(until: segment.start, keeping: true)
                try writer.write(segment.audio)
                try copy(until: segment.frames.upperBound, keeping: false)
            }
            try copy(until: nil, keeping: true)
        }
    }
}
