/// Why a HiFi-GAN vocoder could not be built or run.
///
/// Weight problems (missing, unexpected or mis-shaped keys, unreadable files) are reported as
/// `WeightsError`, all at once; this enum covers the configuration and the input.
public enum VocoderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `config.json` cannot be read or is not a HiFi-GAN generator config (a key is missing or
    /// has the wrong type).
    case unreadableConfiguration(path: String, reason: String)
    /// The configuration describes a network that cannot be built; the reason names the key.
    case invalidConfiguration(reason: String)
    /// The folder holds none of the weight files a vocoder is looked up by.
    case missingWeights(directory: String, candidates: [String])
    /// The log-mel input does not have the shape the vocoder needs.
    case wrongInputShape(expected: String, actual: [Int])

    public var description: String {
        switch self {
        case .unreadableConfiguration(let path, let reason):
            "cannot read the HiFi-GAN configuration \(path): \(reason)"
        case .invalidConfiguration(let reason):
            "the HiFi-GAN configuration describes no network that can be built: \(reason)"
        case .missingWeights(let directory, let candidates):
            "\(directory) holds no vocoder weights (looked for \(candidates.joined(separator: ", ")))"
        case .wrongInputShape(let expected, let actual):
            "the vocoder needs a log-mel spectrogram of shape \(expected), got \(actual)"
        }
    }
}
