import Compute

/// Several weight stores seen as one: the shards of a large checkpoint
/// (`model-00001-of-00002.safetensors`, …, described by a `*.index.json`), or a model's weights
/// spread over files.
///
/// Matches the sharded checkpoints of huggingface transformers/diffusers (`weight_map` in
/// `model.safetensors.index.json` / `pytorch_model.bin.index.json`). A key may live in one shard
/// only; the union is computed once at creation.
public struct ShardedWeightStore: WeightStore {
    public let shards: [any WeightStore]
    public let keys: [String]
    private let owner: [String: Int]

    /// The union of `shards`.
    /// - Parameter names: names for the shards in errors (paths), parallel to `shards`.
    /// - Throws: ``WeightsError/duplicateKey(key:sources:)`` if a key appears in two shards.
    public init(_ shards: [any WeightStore], names: [String]? = nil) throws {
        func label(_ shard: Int) -> String {
            guard let names, names.indices.contains(shard) else { return "shard \(shard)" }
            return names[shard]
        }
        var owner: [String: Int] = [:]
        var keys: [String] = []
        for (index, shard) in shards.enumerated() {
            for key in shard.keys {
                if let previous = owner.updateValue(index, forKey: key) {
                    throw WeightsError.duplicateKey(key: key, sources: [label(previous), label(index)])
                }
                keys.append(key)
            }
        }
        (self.shards, self.keys, self.owner) = (shards, keys, owner)
    }

    public func tensor(_ key: String) throws -> Tensor {
        try shard(for: key).tensor(key)
    }

    public func shape(of key: String) throws -> [Int] {
        try shard(for: key).shape(of: key)
    }

    private func shard(for key: String) throws -> any WeightStore {
        guard let index = owner[key], shards.indices.contains(index) else { throw WeightsError.missingTensor(key: key) }
        return shards[index]
    }
}
