import Foundation

/// Joins generated audio into an original inside given sample ranges with equal-power fades.
///
/// Not in the reference (diffusers returns the decoded canvas whole): outside the ranges every
/// sample is the original's, untouched; inside, the generated signal, faded in over the first
/// `length` samples of a range and out over its last (`length` at most half the range; no fade
/// where a range touches the start or end of the clip). The fade weights are
/// `g = sin(π/2 · w)`, `o = cos(π/2 · w)` with `w = (k + ½) / length`, so `g² + o² = 1` (equal
/// power, for uncorrelated signals) and the output moves from the original to the generated
/// signal in steps of at most `π / (2·length)` of their amplitudes: continuous.
public enum Crossfade {
    /// `original` with `generated` spliced into `ranges`.
    ///
    /// - Parameters:
    ///   - original: the samples to keep outside the ranges.
    ///   - generated: at least as long as `original`.
    ///   - ranges: sample ranges within `original`, disjoint.
    ///   - length: the fade length in samples, ≥ 0 (0 cuts hard).
    /// - Returns: `original.count` samples.
    /// - Complexity: O(`original.count`).
    public static func splice(_ generated: [Float], into original: [Float], ranges: [Range<Int>], length: Int) -> [Float] {
        precondition(generated.count >= original.count && length >= 0, "Crossfade: short generated signal or negative length")
        var output = original
        for range in ranges.map({ $0.clamped(to: 0..<original.count) }) where !range.isEmpty {
            let fade = min(length, range.count / 2)
            for index in range { output[index] = generated[index] }
            for k in 0..<fade {
                let w = Float.pi / 2 * (Float(k) + 0.5) / Float(fade)
                if range.lowerBound > 0 {
                    let index = range.lowerBound + k
                    output[index] = cos(w) * original[index] + sin(w) * generated[index]
                }
                if range.upperBound < original.count {
                    let index = range.upperBound - 1 - k
                    output[index] = cos(w) * original[index] + sin(w) * generated[index]
                }
            }
        }
        return output
    }
}
