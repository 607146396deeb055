import Compute

/// Named tensors from one or more weight files: what a model loader asks for its parameters.
///
/// Conformers are the file readers (``Safetensors``, ``TorchCheckpoint``) and views over other
/// stores: ``scoped(prefix:)`` (the keys below a prefix, with the prefix removed),
/// ``renamed(by:)`` (``KeyRules`` applied once), and ``ShardedWeightStore`` (several files as
/// one). Reading is lazy: ``tensor(_:)`` reads and widens one tensor to Float32 when asked. Plays
/// the role of mlx-swift-examples' weight dictionaries and PyTorch's `state_dict`.
///
/// ```swift
/// let store = try WeightFile.open(folder.appending(path: "unet/diffusion_pytorch_model.safetensors"))
/// let block = store.scoped(prefix: "down_blocks.0.resnets.0.")
/// let conv = try block.tensor("conv1.weight", shape: [320, 320, 3, 3])
/// ```
public protocol WeightStore: Sendable {
    /// Every tensor name, in a stable order.
    var keys: [String] { get }
    /// Reads one tensor, widened to Float32.
    /// - Throws: ``WeightsError/missingTensor(key:)`` when absent, or a reader error.
    func tensor(_ key: String) throws -> Tensor
    /// The shape of one tensor, without reading it.
    /// - Throws: ``WeightsError/missingTensor(key:)`` when absent.
    func shape(of key: String) throws -> [Int]
}

extension WeightStore {
    /// Whether a tensor called `key` exists.
    public func contains(_ key: String) -> Bool {
        (try? shape(of: key)) != nil
    }

    /// Reads a tensor after checking its shape.
    /// - Throws: ``WeightsError/unexpectedShape(key:expected:actual:)`` when the shape differs.
    public func tensor(_ key: String, shape expected: [Int]) throws -> Tensor {
        let actual = try shape(of: key)
        guard actual == expected else { throw WeightsError.unexpectedShape(key: key, expected: expected, actual: actual) }
        return try tensor(key)
    }

    /// The keys that start with `prefix`, with the prefix removed (`"unet."` turns
    /// `"unet.conv_in.weight"` into `"conv_in.weight"`).
    public func scoped(prefix: String) -> ScopedWeightStore {
        ScopedWeightStore(base: self, prefix: prefix)
    }

    /// The same tensors under the names `rules` gives them; keys the rules drop disappear.
    /// - Throws: ``WeightsError/duplicateKey(key:sources:)`` when two keys get the same name.
    public func renamed(by rules: KeyRules) throws -> RenamedWeightStore {
        try RenamedWeightStore(base: self, rules: rules)
    }

    /// Checks this store against the shapes a model expects, reporting every problem at once.
    /// - Parameters:
    ///   - expected: every parameter the model needs, with its shape.
    ///   - allowingUnexpected: whether keys the model does not use are tolerated (buffers such as
    ///     `position_ids`, or a checkpoint holding several models).
    /// - Throws: ``WeightsError/keyMismatch(missing:unexpected:misShaped:)`` listing all missing,
    ///   unexpected and mis-shaped keys, each sorted.
    public func validate(expected: [String: [Int]], allowingUnexpected: Bool = false) throws {
        var shapes: [String: [Int]] = [:]
        for key in keys { shapes[key] = try shape(of: key) }
        try KeyRules.validate(shapes: shapes, expected: expected, allowingUnexpected: allowingUnexpected)
    }
}

/// The tensors of another store whose keys start with a prefix, seen without it.
///
/// Corresponds to indexing a PyTorch state dict by submodule: `scoped(prefix: "encoder.")`
/// holds what `model.encoder.state_dict()` would.
public struct ScopedWeightStore: WeightStore {
    public let base: any WeightStore
    public let prefix: String
    public let keys: [String]

    public init(base: any WeightStore, prefix: String) {
        self.base = base
        self.prefix = prefix
        keys = base.keys.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) }
    }

    public func tensor(_ key: String) throws -> Tensor {
        do { return try base.tensor(prefix + key) } catch WeightsError.missingTensor { throw WeightsError.missingTensor(key: key) }
    }

    public func shape(of key: String) throws -> [Int] {
        do { return try base.shape(of: prefix + key) } catch WeightsError.missingTensor { throw WeightsError.missingTensor(key: key) }
    }
}

/// Another store's tensors under names computed once by ``KeyRules``.
public struct RenamedWeightStore: WeightStore {
    public let base: any WeightStore
    public let keys: [String]
    private let sources: [String: String]

    /// Applies `rules` to every key of `base`.
    /// - Throws: ``WeightsError/duplicateKey(key:sources:)`` if two keys end up with one name.
    public init(base: any WeightStore, rules: KeyRules) throws {
        var sources: [String: String] = [:]
        var keys: [String] = []
        for key in base.keys {
            guard let renamed = rules.apply(to: key) else { continue }
            if let other = sources.updateValue(key, forKey: renamed) {
                throw WeightsError.duplicateKey(key: renamed, sources: [other, key])
            }
            keys.append(renamed)
        }
        (self.base, self.keys, self.sources) = (base, keys, sources)
    }

    public func tensor(_ key: String) throws -> Tensor {
        guard let source = sources[key] else { throw WeightsError.missingTensor(key: key) }
        return try base.tensor(source)
    }

    public func shape(of key: String) throws -> [Int] {
        guard let source = sources[key] else { throw WeightsError.missingTensor(key: key) }
        return try base.shape(of: source)
    }
}
