/// Why audio could not be analysed or resynthesised.
public enum AnalysisError: Error, Equatable, CustomStringConvertible {
    /// The clip is shorter than the analysis needs.
    case clipTooShort(sampleCount: Int, minimum: Int)
    /// The clip contains NaN or infinite samples.
    case nonFiniteSamples
    /// Every sample of the file at `path` is zero: there is nothing to analyse.
    case silent(path: String)
    /// A spectrogram has the wrong number of mel bins or no frames.
    case wrongShape(expected: String, actual: [Int])
    /// A spectrogram contains NaN or infinite values.
    case nonFiniteValues
    /// The mel parameters are inconsistent.
    case invalidParameters(String)

    public var description: String {
        switch self {
        case .clipTooShort(let count, let minimum):
            "the clip has \(count) samples; the analysis needs more than \(minimum) (reflect padding)"
        case .nonFiniteSamples: "the clip contains NaN or infinite samples"
        case .silent(let path): "\(path) is silent (every sample is zero); nothing to analyse"
        case .wrongShape(let expected, let actual): "expected a spectrogram of shape \(expected), got \(actual)"
        case .nonFiniteValues: "the spectrogram contains NaN or infinite values"
        case .invalidParameters(let reason): "invalid mel parameters: \(reason)"
        }
    }
}
