import Compute

/// A weight file whose tensors are described by ``StoredTensor`` records over one mapped file:
/// what safetensors and PyTorch checkpoints have in common once their headers are parsed.
/// (Internal, because its requirements expose internal types; the public `dtype(of:)` is
/// declared on each reader and forwards to ``storedDType(of:)``.)
protocol StoredTensorFile: WeightStore {
    var file: ByteStorage { get }
    var entries: [String: StoredTensor] { get }
}

extension StoredTensorFile {
    public func tensor(_ key: String) throws -> Tensor {
        try entry(key).materialize(from: file)
    }

    public func shape(of key: String) throws -> [Int] {
        try entry(key).shape
    }

    /// The element type stored for `key`, before widening.
    func storedDType(of key: String) throws -> ScalarType {
        try entry(key).dtype
    }

    private func entry(_ key: String) throws -> StoredTensor {
        guard let entry = entries[key] else { throw WeightsError.missingTensor(key: key) }
        return entry
    }
}
