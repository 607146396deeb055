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
///    (band: the fill's, or 0 Hz up to the model's Nyquist frequency for a full fill), measured
///    without the channel's DC offset, which stays under the fill; so the fill sits at the loudness
///    of its surroundings, leans to the side they lean to (silent on a channel that is silent
///    around it) and joins them without a step. Where every channel's context is silent (below
///    ``silence``) the fill keeps the raw level; no gain exceeds the raw one by more than
///    ``maximumBoostDecibels``.
/// 3. Channels: the same (mono) fill on every channel, at that channel's gain: inside a full
///    fill the stereo image is a single position (the level balance of the surroundings), and
///    nothing lies above the model's Nyquist frequency (8 kHz for Auffusion).
/// 4. Band (``Fill/band``): ``BandSplice`` of each channel, the file's own signal outside the band.
/// 5. ``Crossfade`` at each edge of the range that is not an end of the file, between the fill
///    and the part of the file it replaces (the band; everything but the DC offset for a full
///    fill at the context level); what stays of the file passes the seams untouched.
/// 6. Peaks: where what stays of the file and the fill together would pass ``ceiling`` (in a
///    crossfade, under a band fill, or the fill alone), the fill is lowered there, and only
///    there, by a ``PeakLimiter`` gain shared by the channels; what stays of the file is never
///    lowered, so where it is itself louder than the ceiling the sum may reach it but not pass it.
public struct FillPlacement: Sendable {
    /// Length of each crossfade, in seconds.
    public var crossfadeSeconds = 0.020
    /// The most audio measured on each side of a range for the context level, in seconds.
    public var contextSeconds = 0.5
    /// A context quieter than this on every channel (band RMS, dBFS) is silence: the fill keeps
    /// the raw level.
    public static let silence = -60.0
    /// The most a context gain may exceed the raw level's, dB: a fill the model made nearly
    /// silent stays quiet instead of being raised into amplified noise.
    public static let maximumBoostDecibels = 30.0
    /// The highest peak a fill is given, −0.1 dBFS (``PeakGuard``'s ceiling).
    public static let ceiling: Float = 0.988_6

    /// The longest crossfade or context, in seconds (a fade is at most half a range anyway).
    public static let longestLength = 60.0

    public init(crossfadeSeconds: Double = 0.020) { self.crossfadeSeconds = crossfadeSeconds }

    /// Checks that the crossfade and the context are lengths.
    /// - Throws: ``EditingError/invalidCrossfade(_:)``, ``EditingError/invalidContext(_:)``.
    public func validate() throws {
        guard (0...Self.longestLength).contains(crossfadeSeconds) else { throw EditingError.invalidCrossfade(crossfadeSeconds * 1000) }
        guard (0...Self.longestLength).contains(contextSeconds) else { throw EditingError.invalidContext(contextSeconds) }
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
        let matching = fill.level == .context
        let contexts = around.channels.map { channel -> (offset: Float, level: Double) in
            let before = Array(channel[max(0, edited.lowerBound - context - read.lowerBound)..<(edited.lowerBound - read.lowerBound)])
            let after = Array(channel[(edited.upperBound - read.lowerBound)..<min(channel.count, edited.upperBound + context - read.lowerBound)])
            // A DC offset is no sound: measured without it, and kept under the fill, so the seams do not step.
            let offset = matching ? Float((before + after).reduce(0.0) { $0 + Double($1) } / Double(max(before.count + after.count, 1))) : 0
            return (offset, measure(before.map { $0 - offset }, after.map { $0 - offset }))
        }
        let decibels = contexts.map { $0.level > 0 ? 20 * log10($0.level) : -200 }
        let largestGain = fill.analysisGain * Float(pow(10, Self.maximumBoostDecibels / 20))
        let matches = matching && fillLevel > 0 && (decibels.max() ?? -200) > Self.silence
        let gains = contexts.map { matches ? min(Float($0.level / fillLevel), largestGain) : fill.analysisGain }

        let fade = Int((crossfadeSeconds * rate).rounded())
        let silence = [Float](repeating: 0, count: region.count)
        // Each channel as what stays of the file plus what the fill brings. What stays: outside
        // the band (band fills), or the DC offset. Only the part the fill replaces is crossfaded
        // with it (equal power, for uncorrelated signals), so what stays has no bump at the seams.
        let parts = around.channels.indices.map { index -> (stays: [Float], fill: [Float]) in
            let kept = Array(around.channels[index][(region.lowerBound - read.lowerBound)..<(region.upperBound - read.lowerBound)])
            let stays = fill.band.map { BandSplice(band: $0)(silence, into: kept, sampleRate: rate) }
                ?? [Float](repeating: contexts[index].offset, count: kept.count)
            var own = generated.map { $0 * gains[index] }
            if let band = fill.band { own = BandSplice(band: band)(own, into: silence, sampleRate: rate) }
            let replaced = Crossfade.splice(silence, into: zip(kept, stays).map { $0 - $1 }, ranges: [local], length: fade)
            let brought = Crossfade.splice(own, into: silence, ranges: [local], length: fade)
            return (Array(zip(stays, replaced).map { $0 + $1 }[local]), Array(brought[local]))
        }
        let limit = limitedFill(parts, sampleRate: rate)
        let channels = parts.map { part in
            guard let limit else { return zip(part.stays, part.fill).map { $0 + $1 } }
            return part.stays.indices.map { part.stays[$0] + limit[$0] * part.fill[$0] }
        }
        let report = FillReport(frames: edited, level: matches ? .context : .raw,
                                contextDecibels: matching ? decibels : nil,
                                gainDecibels: gains.map { 20 * log10(Double(max($0, .leastNonzeroMagnitude))) },
                                limiterDecibels: limit.map { 20 * log10(Double(max($0.min() ?? 1, .leastNonzeroMagnitude))) } ?? 0)
        return (AudioSegment(start: edited.lowerBound, audio: AudioBuffer(channels: channels, sampleRate: rate)), report)
    }

    /// The gain of the fill at each frame that keeps every channel's sum with what stays of the
    /// file within the ceiling, or within what stays where that is louder (what stays of the file
    /// is never lowered: at gain 0 the frame is what stays), ramped by ``PeakLimiter``; `nil` when
    /// no frame needs one. The channels share the gain, so the fill's balance stays.
    private func limitedFill(_ parts: [(stays: [Float], fill: [Float])], sampleRate: Double) -> [Float]? {
        guard let count = parts.first?.stays.count else { return nil }
        var need = [Float](repeating: 1, count: count)
        for part in parts {
            for index in 0..<count where part.fill[index] != 0 {
                let (stays, own) = (part.stays[index], part.fill[index])
                let bound = max(Self.ceiling, abs(stays)), sum = stays + own
                guard abs(sum) > bound else { continue }
                // A millionth under the exact gain, so that rounding cannot carry the sum past the bound.
                let allowed = ((sum > 0 ? bound : -bound) - stays) / own * (1 - 1e-6)
                need[index] = min(need[index], min(1, max(0, allowed)))
            }
        }
        guard need.contains(where: { $0 < 1 }) else { return nil }
        return PeakLimiter(ceiling: Self.ceiling).gains(needing: need, sampleRate: sampleRate)
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
