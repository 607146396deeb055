import Foundation

/// A look-ahead peak limiter: lowers the gain around each sample that would pass ``ceiling`` just
/// enough that none does, and leaves the rest of the signal alone, so that one spike costs a few
/// milliseconds of gain instead of the whole signal's level (what scaling by the peak does).
///
/// The gain each sample needs is `min(1, ceiling / |x|)`. The gain curve takes the smallest need
/// over the next `lookAhead` samples, recovers towards 1 with a `release` time constant, and is
/// then averaged over `lookAhead + 1` samples, so it ramps down before a peak instead of jumping;
/// every sample the average covers is at most the peak's need, so the peak lands on the ceiling.
public struct PeakLimiter: Sendable {
    /// The largest magnitude let through.
    public var ceiling: Float
    /// How early the gain starts to fall before a peak, in seconds (the ramp's length).
    public var lookAheadSeconds = 0.005
    /// Time constant of the gain's recovery after a peak, in seconds.
    public var releaseSeconds = 0.05

    public init(ceiling: Float) { self.ceiling = ceiling }

    /// `samples` limited at `sampleRate`, and the largest gain reduction applied, in dB (0 when no
    /// sample passed the ceiling, in which case the samples are returned unchanged).
    public func callAsFunction(_ samples: [Float], sampleRate: Double) -> (samples: [Float], reductionDecibels: Double) {
        guard let peak = samples.lazy.map(abs).max(), peak > ceiling else { return (samples, 0) }
        let gains = gains(needing: samples.map { abs($0) > ceiling ? ceiling / abs($0) : 1 }, sampleRate: sampleRate)
        let limited = samples.indices.map { min(ceiling, max(-ceiling, samples[$0] * gains[$0])) }
        return (limited, 20 * log10(Double(gains.min() ?? 1)))
    }

    /// The smooth gain curve for the gain each sample needs (`need`, each in 0…1): at most the need
    /// at every sample, ramping down over the look-ahead before a dip and recovering after it.
    /// A caller with its own notion of too loud (a sum of two signals) computes the need itself.
    public func gains(needing need: [Float], sampleRate: Double) -> [Float] {
        guard !need.isEmpty else { return [] }
        let lookAhead = max(1, Int(lookAheadSeconds * sampleRate))
        let ahead = Self.minimumOfNext(lookAhead + 1, need)
        let recovery = Float(1 - exp(-1 / (releaseSeconds * sampleRate)))
        var held = [Float](repeating: 1, count: need.count)
        var previous = ahead[0]
        for index in held.indices {
            previous = min(ahead[index], previous + (1 - previous) * recovery)
            held[index] = previous
        }
        // The average of the last lookAhead + 1 held gains (the first one standing in before the start).
        var sum = Double(held[0]) * Double(lookAhead + 1)
        return need.indices.map { index -> Float in
            sum += Double(held[index]) - Double(held[max(0, index - lookAhead - 1)])
            return min(Float(sum / Double(lookAhead + 1)), need[index])
        }
    }

    /// The minimum of `values[i ..< i + width]` (clipped at the end) for every `i`, in one pass
    /// with a queue of indices of increasing values.
    private static func minimumOfNext(_ width: Int, _ values: [Float]) -> [Float] {
        var result = [Float](repeating: 1, count: values.count)
        var queue: [Int] = []
        var head = 0
        for index in stride(from: values.count - 1, through: 0, by: -1) {
            while queue.count > head, values[queue[queue.count - 1]] >= values[index] { queue.removeLast() }
            queue.append(index)
            while queue[head] >= index + width { head += 1 }
            result[index] = values[queue[head]]
        }
        return result
    }
}
