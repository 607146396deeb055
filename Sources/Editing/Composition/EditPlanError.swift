/// Why a composed plan could not run, naming the pass (from 1) and the field.
public enum EditPlanError: Error, Equatable, CustomStringConvertible {
    /// A plan without passes.
    case empty
    /// A pass whose field has a bad value, found before running.
    case invalidPass(Int, field: String, reason: String)
    /// A pass that failed while running (a word not in its prompt, a bad mask, …).
    case passFailed(Int, reason: String)

    public var description: String {
        switch self {
        case .empty: "the plan has no passes"
        case .invalidPass(let pass, let field, let reason): "pass \(pass), \(field): \(reason)"
        case .passFailed(let pass, let reason): "pass \(pass): \(reason)"
        }
    }
}
