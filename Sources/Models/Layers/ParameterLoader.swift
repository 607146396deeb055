import Compute
import Foundation
import Weights

/// Where a model's parameters come from while it is being built.
public enum ParameterSource: Sendable {
    /// A checkpoint, with keys already renamed to the model's key names.
    case store(any WeightStore)
    /// Every parameter computed from its key and shape. The `SyntheticWeights` target (not
    /// shipped) fills it with deterministic stand-in weights for benchmarks and full-size parity
    /// tests, where shipping gigabytes of weights is not an option.
    case generated(@Sendable (_ key: String, _ shape: [Int]) -> Tensor)
}

/// Hands parameters to the layers of a model as they are built, and collects every problem —
/// missing keys, wrong shapes, unreadable tensors, keys nobody asked for — so that loading
/// reports all of them in one `WeightsError.keyMismatch` instead of stopping at the first.
///
/// ```swift
/// let loader = ParameterLoader(.store(checkpoint))
/// let model = UNet2DConditionModel(configuration, parameters: loader.root)
/// try loader.finish()   // throws if anything was missing, mis-shaped or left over
/// ```
public final class ParameterLoader: @unchecked Sendable {
    // @unchecked: a loader is used by one thread while a model is built, then discarded.
    private let source: ParameterSource
    private var requested: Set<String> = []
    private var missing: [String] = []
    private var misShaped: [ShapeMismatch] = []
    private var failures: [String] = []

    public init(_ source: ParameterSource) { self.source = source }

    /// The scope for keys without a prefix.
    public var root: Parameters { Parameters(loader: self, prefix: "") }

    /// The tensor `key` with `shape`; on any problem, records it and returns zeros of `shape`.
    func tensor(_ key: String, shape: [Int]) -> Tensor {
        requested.insert(key)
        switch source {
        case .generated(let parameter):
            return parameter(key, shape)
        case .store(let store):
            guard store.contains(key) else {
                missing.append(key)
                return .zeros(shape)
            }
            do {
                let actual = try store.shape(of: key)
                // A 1×1 convolution stored as a linear weight (or the reverse) is the same data.
                guard actual.reduce(1, *) == shape.reduce(1, *) && actual.filter({ $0 != 1 }) == shape.filter({ $0 != 1 }) else {
                    misShaped.append(ShapeMismatch(key: key, expected: shape, actual: actual))
                    return .zeros(shape)
                }
                return try store.tensor(key).reshaped(shape)
            } catch {
                failures.append("\(key): \(error)")
                return .zeros(shape)
            }
        }
    }

    /// Whether the source holds `key` (generated sources hold everything).
    func contains(_ key: String) -> Bool {
        switch source {
        case .generated: true
        case .store(let store): store.contains(key)
        }
    }

    /// Throws before a model is built when its configuration needs more parameters than the
    /// checkpoint holds: building it would allocate (zeros for) every missing one, and a damaged
    /// `config.json` can ask for terabytes. A no-op for synthetic sources.
    /// - Parameters:
    ///   - count: a lower bound on the parameters the configuration needs.
    ///   - model: the model's name, for the message.
    /// - Throws: ``ModelError/configurationExceedsWeights(model:needed:held:)``.
    public func ensureHolds(atLeast count: Int, for model: String) throws {
        guard case .store(let store) = source else { return }
        let held = store.keys.reduce(0) { total, key in
            total.addingReportingOverflow((try? store.shape(of: key))?.reduce(1, *) ?? 0).partialValue
        }
        guard count <= held else { throw ModelError.configurationExceedsWeights(model: model, needed: count, held: held) }
    }

    /// Throws if any parameter was missing, mis-shaped or unreadable, or if the store holds keys
    /// the model never asked for (other than those under `ignoredPrefixes`).
    public func finish(ignoring ignoredPrefixes: [String] = []) throws {
        var unexpected: [String] = []
        if case .store(let store) = source {
            unexpected = store.keys.filter { key in
                !requested.contains(key) && !ignoredPrefixes.contains { key.hasPrefix($0) }
            }.sorted()
        }
        if let failure = failures.first {
            throw WeightsError.corrupt(path: "weights", reason: failure + (failures.count > 1 ? " (and \(failures.count - 1) more)" : ""))
        }
        guard missing.isEmpty && unexpected.isEmpty && misShaped.isEmpty else {
            throw WeightsError.keyMismatch(missing: missing.sorted(), unexpected: unexpected, misShaped: misShaped)
        }
    }
}

/// A key prefix within a ``ParameterLoader``: what a layer receives to load its own parameters.
public struct Parameters: @unchecked Sendable {
    let loader: ParameterLoader
    let prefix: String

    /// The scope `prefix + name + "."`.
    public subscript(_ name: String) -> Parameters { Parameters(loader: loader, prefix: prefix + name + ".") }

    /// The scope of the `index`-th child (`…name.index.`).
    public subscript(_ name: String, _ index: Int) -> Parameters { self[name][String(index)] }

    /// The tensor `prefix + name` of `shape`.
    public func tensor(_ name: String, shape: [Int]) -> Tensor { loader.tensor(prefix + name, shape: shape) }

    /// Whether the checkpoint holds `prefix + name` (for optional parameters such as a bias).
    public func contains(_ name: String) -> Bool { loader.contains(prefix + name) }
}
