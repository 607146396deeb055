/// A value decoded from a checkpoint's pickle by the restricted ``Unpickler``: plain data,
/// containers and tensor references, never a live Python object.
///
/// Mirrors what `pickle.load` would return for a state dict saved by `torch.save`
/// (torch/serialization.py `_load`), with tensors replaced by ``PickleTensor`` descriptions that
/// ``TorchCheckpoint`` materialises on demand. Use it to navigate checkpoints that wrap their
/// state dict, such as HiFi-GAN's `{"generator": state_dict, "steps": …}`:
///
/// ```swift
/// let checkpoint = try TorchCheckpoint(url: vocoderURL, keyPath: ["generator"])
/// checkpoint.root["steps"]?.intValue      // Optional(2500000)
/// ```
public indirect enum PickleValue: Sendable, Hashable {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer outside `Int`'s range, as little-endian two's-complement bytes (pickle `LONG1`).
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case list([PickleValue])
    case tuple([PickleValue])
    /// A `dict` or `collections.OrderedDict`, in insertion order.
    case dict([DictEntry])
    /// A tensor rebuilt by `torch._utils._rebuild_tensor_v2` (or a `Parameter` around one).
    case tensor(PickleTensor)
    /// A storage referenced by persistent id, outside any tensor.
    case storage(PickleStorage)
    /// An allow-listed global used as a value rather than called (e.g. `torch.float16`).
    case global(module: String, name: String)

    /// One key/value pair of a ``dict(_:)``.
    public struct DictEntry: Sendable, Hashable {
        public var key: PickleValue
        public var value: PickleValue
        public init(key: PickleValue, value: PickleValue) {
            self.key = key
            self.value = value
        }
    }

    /// The value stored under a string key, if this is a dict holding one.
    public subscript(key: String) -> PickleValue? {
        guard case .dict(let entries) = self else { return nil }
        return entries.last { $0.key == .string(key) }?.value
    }

    /// The value at a path of string keys; the empty path is `self`.
    public func value(at keyPath: [String]) -> PickleValue? {
        var current = self
        for key in keyPath {
            guard let next = current[key] else { return nil }
            current = next
        }
        return current
    }

    /// The entries, if this is a dict.
    public var dictEntries: [DictEntry]? {
        if case .dict(let entries) = self { return entries }
        return nil
    }

    /// The elements, if this is a list or a tuple.
    public var elements: [PickleValue]? {
        switch self {
        case .list(let values), .tuple(let values): values
        default: nil
        }
    }

    public var intValue: Int? {
        if case .int(let value) = self { return value }
        return nil
    }

    /// The number, if this is a float or an int.
    public var doubleValue: Double? {
        switch self {
        case .float(let value): value
        case .int(let value): Double(value)
        default: nil
        }
    }

    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    public var tensorValue: PickleTensor? {
        if case .tensor(let value) = self { return value }
        return nil
    }
}

/// A storage named by a checkpoint's persistent id `('storage', torch.FloatStorage, key,
/// location, numel)` (torch/serialization.py `persistent_id`).
public struct PickleStorage: Sendable, Hashable {
    /// The element type of the typed storage class.
    public var dtype: ScalarType
    /// The record name: `data/<key>` in a zip checkpoint, the serialized key in a legacy one.
    public var key: String
    /// Where it lived when saved (`"cpu"`, `"cuda:0"`); ignored when loading.
    public var location: String
    /// Number of elements.
    public var count: Int
}

/// A tensor as `_rebuild_tensor_v2(storage, storage_offset, size, stride, …)` describes it
/// (torch/_utils.py): a strided view of a storage, not yet read.
public struct PickleTensor: Sendable, Hashable {
    public var storage: PickleStorage
    /// First element, in elements from the start of the storage.
    public var storageOffset: Int
    public var shape: [Int]
    /// Strides in elements.
    public var strides: [Int]
    public var requiresGrad: Bool
}
