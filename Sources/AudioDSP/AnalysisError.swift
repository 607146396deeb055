/// Why audio could not be analysed or resynthesised.
public enum AnalysisError: Error, Equatable, CustomStringConvertible {
    /// The clip is shorter than the analysis needs: its samples and the fewest it needs, at the
    /// analysis rate (Hz), which the clip was resampled to.
    case clipTooShort(sampleCount: Int, minimum: Int, sampleRate: Int)
    /// The clip contains NaN or infinite samples.
    case nonFiniteSamples
    /// A spectrogram has the wrong number of mel bins or no frames.
    case wrongShape(expected: String, actual: [Int])
    /// A spectrogram contains NaN or infinite values.
    case nonFiniteValues
    /// A spectrogram too short for Griffin-Lim: its frames and the fewest it needs.
    case tooFewFrames(count: Int, minimum: Int)
    /// The mel parameters are inconsistent.
    case invalidParameters(String)

    public var description: String {
        switch self {
        case .clipTooShort(let count, let minimum, let rate):
            String(format: "the clip is %.1f ms long; the analysis needs more than %.1f ms (%d samples at %d Hz, after resampling; "
                   + "it needs more than %d)", 1000 * Double(count) / Double(rate), 1000 * Double(minimum) / Double(rate), count, rate, minimum)
        case .nonFiniteSamples: "the clip contains NaN or infinite samples"
        case .wrongShape(let expected, let actual): "expected a spectrogram of shape \(expected), got \(actual)"
        case .nonFiniteValues: "the spectrogram contains NaN or infinite values"
        case .tooFewFrames(let count, let minimum):
            "the spectrogram has \(count) frame\(count == 1 ? "" : "s"); Griffin-Lim needs at least \(minimum) to resynthesise it"
        case .invalidParameters(let reason): "invalid mel parameters: \(reason)"
        }
    }
}
