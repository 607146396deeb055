/// Why a generation or edit could not run.
public enum PipelineError: Error, Equatable, CustomStringConvertible {
    /// A request value is out of range or inconsistent.
    case invalidRequest(String)
    /// A field of a ``GenerationRequest`` is out of range: its name (`steps`, `guidance`,
    /// `guidance_rescale`, `duration`, `prompt`, `canvas`, the speed options' `guided_fraction`,
    /// `cache_interval`, `cache_branch`; `iterations` of a resynthesis) and what it must be; a
    /// front end maps the field to its own spelling (a command-line flag, a JSON key).
    case invalidValue(field: String, reason: String)
    /// A noise tensor read from a file has the wrong shape.
    case noiseShape(expected: [Int], actual: [Int])
    /// A given noise tensor (the `index`-th, from 0) holds NaN or infinite values.
    case nonFiniteNoise(index: Int)
    /// A noise file (``NoiseSource/init(file:seed:)``) holds noise the run cannot use.
    case noiseFile(path: String, reason: String)
    /// The progress handler asked to stop.
    case cancelled
    /// No model folder was given and the default one cannot be found.
    case modelNotFound(String)
    /// Two options of one run that cannot work together (feature caching and an attention
    /// controller): both named as in ``invalidValue(field:reason:)``, and why.
    case incompatibleOptions(String, String, reason: String)

    public var description: String {
        switch self {
        case .invalidRequest(let reason): reason
        case .invalidValue(let field, let reason): "\(field) \(reason)"
        case .noiseShape(let expected, let actual):
            "the noise tensor has shape \(actual); this run needs \(expected)"
        case .nonFiniteNoise(let index):
            "the given noise\(index == 0 ? "" : " (tensor \(index + 1))") holds NaN or infinite values; give finite noise, e.g. drawn from a normal distribution"
        case .noiseFile(let path, let reason): "\(path): \(reason)"
        case .cancelled: "cancelled"
        case .modelNotFound(let reason): reason
        case .incompatibleOptions(let first, let second, let reason): "\(first) does not go with \(second): \(reason)"
        }
    }
}
