import Foundation

/// The output stage that keeps written audio from clipping: when any sample of a buffer passes
/// full scale (magnitude 1), every sample is scaled by the same factor so the peak sits at
/// ``ceiling``; otherwise the buffer is unchanged. A vocoder's output is not bounded, and a fixed-point
/// file silently clips what lies beyond full scale (a generated beep with 11 % of its samples at
/// ±32767); scaling the whole buffer keeps its shape and says by how much it changed.
public struct PeakGuard: Sendable {
    /// The peak a scaled buffer gets, −0.1 dBFS by default.
    public var ceiling: Float

    public init(ceiling: Float = 0.988_6) { self.ceiling = ceiling }

    /// `audio`, scaled to a peak of ``ceiling`` when it passes full scale, and the gain applied in
    /// dB (0 when nothing was scaled).
    public func apply(to audio: AudioBuffer) -> (audio: AudioBuffer, gainDecibels: Double) {
        let peak = audio.channels.reduce(Float(0)) { peak, channel in channel.reduce(peak) { max($0, abs($1)) } }
        guard peak > 1, peak.isFinite else { return (audio, 0) }
        let gain = ceiling / peak
        var scaled = audio
        scaled.channels = audio.channels.map { $0.map { $0 * gain } }
        return (scaled, 20 * log10(Double(gain)))
    }
}
