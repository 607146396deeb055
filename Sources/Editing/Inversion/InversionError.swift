/// Why an inversion could not be made, used or read.
public enum InversionError: Error, Equatable, CustomStringConvertible {
    /// A setting out of range.
    case invalidSettings(String)
    /// An edit asks for more steps than the inversion covers.
    case startBeyondInversion(requested: Int, available: Int)
    /// A saved inversion belongs to another clip, model or schedule.
    case mismatch(path: String, what: String)
    /// A saved inversion that cannot be read as one.
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .invalidSettings(let reason): reason
        case .startBeyondInversion(let requested, let available):
            "the edit starts \(requested) steps from the end, but the inversion covers only \(available); invert again with a larger start step"
        case .mismatch(let path, let what):
            "\(path) was made from \(what); invert this clip with this model again"
        case .unreadable(let path, let reason): "\(path) is not a usable inversion: \(reason)"
        }
    }
}
