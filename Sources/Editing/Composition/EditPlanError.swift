/// Why a composed plan could not run, naming the pass (from 1) and the field.
public enum EditPlanError: Error, Equatable, CustomStringConvertible {
    /// A plan without passes.
    case empty
    /// A plan document that is not JSON, has a value of the wrong type or an unknown key.
    case invalidDocument(String)
    /// A pass whose field has a bad value, found before running.
    case invalidPass(Int, field: String, reason: String)
    /// A pass that cannot run (a word not in its prompt, a request its model refuses) or failed
    /// while running, and the error it failed with.
    case passFailed(Int, cause: Cause)

    /// The error a pass failed with, kept so that a front end can say it in its own terms (a
    /// command line that ran one pass names no pass); compared by what it says.
    public struct Cause: Error, Equatable, CustomStringConvertible {
        public let error: any Error

        public init(_ error: any Error) { self.error = error }

        public var description: String { "\(error)" }

        public static func == (lhs: Cause, rhs: Cause) -> Bool { lhs.description == rhs.description }
    }

    public var description: String {
        switch self {
        case .empty: "the plan has no passes"
        case .invalidDocument(let reason): reason
        case .invalidPass(let pass, let field, let reason): "pass \(pass), \(field): \(reason)"
        case .passFailed(let pass, let cause): "pass \(pass): \(cause)"
        }
    }
}
