/// Declarative renames from checkpoint keys to the names a model uses, applied once at load.
///
/// Each model keeps its table of rules in one place (house rule 4), in the manner of
/// mlx-swift-examples `Load.swift` (`keyReplace`, `dropPrefix`) and stable-diffusion.cpp
/// `name_conversion.cpp`. Rules run in order on every key; ``Rule/skip(prefix:)`` removes a key
/// from the store.
///
/// ```swift
/// let rules: KeyRules = [.dropPrefix("model."), .replace(".attn.", ".attention."), .skip(prefix: "loss.")]
/// rules.apply(to: "model.block.attn.q.weight")   // "block.attention.q.weight"
/// ```
public struct KeyRules: Sendable, Equatable, ExpressibleByArrayLiteral {
    /// One renaming step.
    public enum Rule: Sendable, Equatable {
        /// Replaces every occurrence of a substring.
        case replace(String, String)
        /// Removes a prefix from keys that start with it.
        case dropPrefix(String)
        /// Prepends a prefix to every key.
        case addPrefix(String)
        /// Drops keys that start with a prefix (buffers and heads the model does not use).
        case skip(prefix: String)
    }

    public var rules: [Rule]

    public init(_ rules: [Rule]) { self.rules = rules }
    public init(arrayLiteral rules: Rule...) { self.rules = rules }

    /// The name `key` gets, or `nil` if a ``Rule/skip(prefix:)`` rule drops it.
    public func apply(to key: String) -> String? {
        var result = key
        for rule in rules {
            switch rule {
            case .replace(let old, let new):
                if !old.isEmpty { result = result.replacing(old, with: new) }
            case .dropPrefix(let prefix):
                if result.hasPrefix(prefix) { result.removeFirst(prefix.count) }
            case .addPrefix(let prefix):
                result = prefix + result
            case .skip(let prefix):
                if result.hasPrefix(prefix) { return nil }
            }
        }
        return result
    }

    /// Compares stored shapes with the shapes a model expects.
    /// - Throws: ``WeightsError/keyMismatch(missing:unexpected:misShaped:)`` listing every missing,
    ///   unexpected (unless `allowingUnexpected`) and mis-shaped key, sorted by key.
    public static func validate(shapes: [String: [Int]], expected: [String: [Int]],
                                allowingUnexpected: Bool = false) throws {
        let missing = expected.keys.filter { shapes[$0] == nil }.sorted()
        let unexpected = allowingUnexpected ? [] : shapes.keys.filter { expected[$0] == nil }.sorted()
        let misShaped = expected.keys.sorted().compactMap { key -> ShapeMismatch? in
            guard let actual = shapes[key], let wanted = expected[key], actual != wanted else { return nil }
            return ShapeMismatch(key: key, expected: wanted, actual: actual)
        }
        guard missing.isEmpty, unexpected.isEmpty, misShaped.isEmpty else {
            throw WeightsError.keyMismatch(missing: missing, unexpected: unexpected, misShaped: misShaped)
        }
    }
}
