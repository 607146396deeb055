import AudioDSP
import Foundation

/// The audio a fill is spliced into: a file (``OriginalFile``) or a buffer in memory.
public protocol OriginalAudio {
    var sampleRate: Double { get }
    var channelCount: Int { get }
    var frameCount: Int { get }
    /// Frames `range` (within `0..<frameCount`) of every channel.
    func frames(_ range: Range<Int>) throws -> AudioBuffer
}

extension AudioBuffer: OriginalAudio {
    public func frames(_ range: Range<Int>) throws -> AudioBuffer {
        AudioBuffer(channels: channels.map { Array($0[range]) }, sampleRate: sampleRate)
    }
}

/// Brings a ``Fill`` to the file it goes into: the replacement of the file's frames in the fill's
/// range, at the file's rate and on its channels (docs/editing.md, "The file's own format").
///
/// 1. The model's mono audio around the range is resampled to the file's rate with libsamplerate
///    (``Resampler``, best quality), starting on a frame where both rates' sample grids meet
///    (every 160 samples at 16 kHz for 44.1 kHz), so that it lands on the file's frames exactly.
/// 2. Level (``FillLevel``): with `.context`, each channel gets the fill scaled so that its band
///    RMS equals that channel's band RMS over up to ``contextSeconds`` on each side of the range
///    (band: the fill's, or 0 Hz up to the model's Nyquist frequency for a full fill); so the fill
///    sits at the loudness of its surroundings and leans to the side they lean to. Where the
///    gained fill would pass ``ceiling``, a ``PeakLimiter`` lowers it around those peaks only, so a
///    spike does not take the whole fill's level down with it.
/// 3. Channels: the same (mono) fill on every channel, at that channel's gain: inside a full
///    fill the stereo image is a single position (the level balance of the surroundings), and
///    nothing lies above the model's Nyquist frequency (8 kHz for Auffusion).
/// 4. Band (``Fill/band``): ``BandSplice`` of each channel, the file's own signal outside the band.
/// 5. ``Crossfade`` with the file's samples at each edge of the range that is not an end of the file.
public struct FillPlacement: Sendable {
    /// Length of each crossfade, in seconds.
    public var crossfadeSeconds = 0.020
    /// The most audio measured on each side of a range for the context level, in seconds.
    public var contextSeconds = 0.5
    /// A context quieter than this (band RMS, dBFS) is silence: the fill keeps the raw level.
    public static let silence = -60.0
    /// The highest peak a fill is given, −0.1 dBFS (``PeakGuard``'s ceiling).
    public static let ceiling: Float = 0.988_6

    public init(crossfadeSeconds: Double = 0.020) { self.crossfadeSeconds = crossfadeSeconds }

    /// Checks that the crossfade and the context are lengths.
    /// - Throws: ``EditingError/invalidCrossfade(_:)``, ``EditingError/invalidContext(_:)``.
    public func validate() throws {
        guard crossfadeSeconds >= 0, crossfadeSeconds.isFinite else { throw EditingError.invalidCrossfade(crossfadeSeconds * 1000) }
        guard contextSeconds >= 0, contextSeconds.isFinite else { throw EditingError.invalidContext(contextSeconds) }
    }

    /// The replacement of `original`'s frames in `fill`'s range, and what was done; `nil` when the
    /// range holds no frame of `original`.
    /// - Throws: ``EditingError`` for a crossfade or context that is not a length; reading errors
    ///   of `original`; ``Resampler/Failure``.
    public func segment(for fill: Fill, in original: some OriginalAudio) throws -> (AudioSegment, FillReport)? {
        try validate()
        let rate = original.sampleRate, count = original.frameCount
        let edited = Int((fill.range.lowerBound * rate).rounded()).clamped(0, count)
            ..< Int((fill.range.upperBound * rate).rounded()).clamped(0, count)
        guard !edited.isEmpty else { return nil }
        let reach = BandLevel.frameSize(sampleRate: rate)
        let context = Int(contextSeconds * rate)
        let read = max(0, edited.lowerBound - max(reach, context))..<min(count, edited.upperBound + max(reach, context))
        let around = try original.frames(read)
        let region = max(0, edited.lowerBound - reach)..<min(count, edited.upperBound + reach)
        let generated = try resampled(fill, frames: region, rate: rate)
        let local = (edited.lowerBound - region.lowerBound)..<(edited.upperBound - region.lowerBound)

        let band = fill.band ?? 0..<(fill.audio.sampleRate / 2)
        let measure = BandLevel(band: band, sampleRate: rate)
        let fillLevel = measure(Array(generated[local]))
        let contextLevels = around.channels.map { channel -> Double in
            let before = Array(channel[max(0, edited.lowerBound - context - read.lowerBound)..<(edited.lowerBound - read.lowerBound)])
            let after = Array(channel[(edited.upperBound - read.lowerBound)..<min(channel.count, edited.upperBound + context - read.lowerBound)])
            return measure(before, after)
        }
        let decibels = contextLevels.map { $0 > 0 ? 20 * log10($0) : -200 }
        let matches = fill.level == .context && fillLevel > 0 && (decibels.max() ?? -200) > Self.silence
        let gains = contextLevels.map { (level: Double) -> Float in matches ? Float(level / fillLevel) : fill.analysisGain }

        let fade = Int((crossfadeSeconds * rate).rounded())
        let limiter = PeakLimiter(ceiling: Self.ceiling)
        var reduction = 0.0
        let channels = around.channels.enumerated().map { index, channel -> [Float] in
            let kept = Array(channel[(region.lowerBound - read.lowerBound)..<(region.upperBound - read.lowerBound)])
            let (limited, channelReduction) = limiter(generated.map { $0 * gains[index] }, sampleRate: rate)
            reduction = min(reduction, channelReduction)
            var placed = limited
            if let band = fill.band { placed = BandSplice(band: band)(placed, into: kept, sampleRate: rate) }
            return Array(Crossfade.splice(placed, into: kept, ranges: [local], length: fade)[local])
        }
        let report = FillReport(frames: edited, level: matches ? .context : .raw,
                                contextDecibels: fill.level == .context ? decibels : nil,
                                gainDecibels: gains.map { 20 * log10(Double(max($0, .leastNonzeroMagnitude))) },
                                limiterDecibels: reduction)
        return (AudioSegment(start: edited.lowerBound, audio: AudioBuffer(channels: channels, sampleRate: rate)), report)
    }

    /// The fill's audio at `rate` over the file's `frames` (zeros where the fill has none).
    private func resampled(_ fill: Fill, frames: Range<Int>, rate: Double) throws -> [Float] {
        let source = fill.audio.sampleRate
        // The two sample grids meet every `period` samples of the source (160 at 16 → 44.1 kHz).
        let period = Int(source) / greatestCommonDivisor(Int(source), Int(rate))
        let margin = 1024   // source samples of context for the converter's filter, each side
        let first = Int(((Double(frames.lowerBound) / rate - fill.start) * source).rounded(.down)) - margin
        let start = Int((Double(first) / Double(period)).rounded(.down)) * period
        let end = Int(((Double(frames.upperBound) / rate - fill.start) * source).rounded(.up)) + margin
        let samples = fill.audio.channels[0]
        let piece = (start..<end).map { samples.indices.contains($0) ? samples[$0] : 0 }
        let converted = try Resampler.resample(AudioBuffer(mono: piece, sampleRate: source), to: rate).channels[0]
        let offset = Int(((Double(start) / source + fill.start) * rate).rounded())
        return frames.map { frame in
            let index = frame - offset
            return converted.indices.contains(index) ? converted[index] : 0
        }
    }

    private func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int { b == 0 ? a : greatestCommonDivisor(b, a % b) }
}

private extension Int {
    func clamped(_ lower: Int, _ upper: Int) -> Int { Swift.min(Swift.max(self, lower), upper) }
}
