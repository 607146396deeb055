/// Why a composed plan could not run, naming the pass (from 1) and the field.
public enum EditPlanError: Error, Equatable, CustomStringConvertible {
    /// A plan without passes.
    case empty
    /// A plan document that is not JSON, has a value of the wrong type or an unknown key.
    case invalidDocument(String)
    /// A pass whose field has a bad value, found before running.
    case invalidPass(Int, field: String, reason: String)
    /// A pass that cannot run (a word not in its prompt, a request its model refuses) or failed
    /// while running.
    case passFailed(Int, reason: String)

    public var description: String {
        switch self {
        case .empty: "the plan has no passes"
        case .invalidDocument(let reason): reason
        case .invalidPass(let pass, let field, let reason): "pass \(pass), \(field): \(reason)"
        case .passFailed(let pass, let reason): "pass \(pass): \(reason)"
        }
    }
}
