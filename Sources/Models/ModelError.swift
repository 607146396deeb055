/// Why a model could not be built or run.
public enum ModelError: Error, Equatable, CustomStringConvertible {
    /// The configuration asks for something this port does not implement.
    case unsupportedConfiguration(model: String, reason: String)
    /// A configuration file is missing or malformed.
    case unreadableConfiguration(path: String, reason: String)
    /// The configuration needs more parameters than the weight file holds (they do not belong together).
    case configurationExceedsWeights(model: String, needed: Int, held: Int)
    /// An input has the wrong shape or values.
    case invalidInput(model: String, reason: String)

    public var description: String {
        switch self {
        case .unsupportedConfiguration(let model, let reason): "\(model): unsupported configuration: \(reason)"
        case .unreadableConfiguration(let path, let reason): "cannot read the model configuration \(path): \(reason)"
        case .configurationExceedsWeights(let model, let needed, let held):
            "\(model): the configuration needs at least \(needed) parameters but the weight file holds \(held); "
                + "config.json does not describe these weights"
        case .invalidInput(let model, let reason): "\(model): \(reason)"
        }
    }
}
