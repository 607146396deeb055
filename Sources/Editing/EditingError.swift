/// Why an edit could not run: a value out of range, named so the CLI can print it as is.
public enum EditingError: Error, Equatable, CustomStringConvertible {
    /// Style-transfer or inpainting strength outside [0, 1].
    case invalidStrength(Double)
    /// The clip has no samples.
    case emptyClip
    /// No mask range, or a range that is empty or lies outside the clip (seconds).
    case invalidMask(String)
    /// A frequency band outside 0…maximum Hz, or empty.
    case invalidBand(low: Double, high: Double, maximum: Double)
    /// A crossfade length that is negative or not a number (milliseconds).
    case invalidCrossfade(Double)
    /// A fill's context length (``EditPlan/contextSeconds``) that is negative or not a number.
    case invalidContext(Double)
    /// An output channel count the toolkit cannot make from the input's.
    case unsupportedChannels(from: Int, to: Int)
    /// Format overrides for a plan whose result is the model's decoding (``EditPlan/raw``), which
    /// is written as it is, mono at the model's rate (Hz).
    case formatOfRawResult(sampleRate: Int)

    public var description: String {
        switch self {
        case .invalidStrength(let strength): "the strength must be between 0 and 1, got \(strength)"
        case .emptyClip: "the input clip has no samples"
        case .invalidMask(let reason): reason
        case .invalidBand(let low, let high, let maximum):
            "the band \(low)-\(high) Hz must satisfy 0 <= low < high <= \(maximum) Hz"
        case .invalidCrossfade(let milliseconds): "the crossfade must be between 0 and 60000 ms, got \(milliseconds) ms"
        case .invalidContext(let seconds): "the context around a fill must be between 0 and 60 s, got \(seconds) s"
        case .unsupportedChannels(let from, let to):
            "cannot make \(to) channels from \(from): give 1 (the channels averaged), \(from) (the input's), or start from a mono file"
        case .formatOfRawResult(let sampleRate):
            "a raw result is the model's decoding, written as it is (mono, \(sampleRate) Hz); the sample rate, channels and "
                + "sample format of the output apply to an edit written into the input's own file"
        }
    }
}

extension EditingError {
    /// Checks a strength before a plan is built, so that single edits report it as such.
    static func check(strength: Double) throws {
        guard (0...1).contains(strength) else { throw EditingError.invalidStrength(strength) }
    }
}
