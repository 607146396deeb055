import Compute

/// One key whose tensor has a different shape from the one a model expects.
public struct ShapeMismatch: Sendable, Equatable, CustomStringConvertible {
    /// The key, after renaming.
    public var key: String
    /// The shape the model needs.
    public var expected: [Int]
    /// The shape stored in the file.
    public var actual: [Int]

    public init(key: String, expected: [Int], actual: [Int]) {
        self.key = key
        self.expected = expected
        self.actual = actual
    }

    public var description: String { "\(key.abbreviated()): expected \(expected), found \(actual)" }
}

/// Why a weight file could not be opened or a tensor could not be read.
///
/// Every case carries enough to act on: the file, the key, the forbidden name, or (for
/// ``keyMismatch(missing:unexpected:misShaped:)``) every missing, unexpected and mis-shaped key
/// at once, so one failed load shows the whole problem. Readers never trap on malformed input:
/// everything they cannot make sense of ends up here, usually as ``corrupt(path:reason:)``.
public enum WeightsError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file does not exist or cannot be read (permissions, I/O error).
    case unreadable(path: String, reason: String)
    /// A tensor the caller asked for is not in the store.
    case missingTensor(key: String)
    /// A tensor exists but has another shape than the caller requires.
    case unexpectedShape(key: String, expected: [Int], actual: [Int])
    /// The file stores an element type this reader does not convert (e.g. complex, FP8).
    case unsupportedDType(path: String, dtype: String)
    /// The file is damaged or lies about itself (sizes, offsets, structure).
    case corrupt(path: String, reason: String)
    /// A valid file of a variant this reader does not handle (compressed zip entries,
    /// big-endian checkpoints, multi-disk archives).
    case unsupportedFormat(path: String, reason: String)
    /// The very old tar-based PyTorch format (before PyTorch 0.4).
    case legacyTorchFormat(path: String)
    /// The checkpoint's pickle names a Python global outside the allow-list. Nothing was executed.
    case forbiddenGlobal(path: String, module: String, name: String)
    /// The checkpoint's pickle uses an opcode outside the allow-list (`offset` counts from the
    /// pickle's first byte). Nothing was executed.
    case forbiddenOpcode(path: String, opcode: String, offset: Int)
    /// The checkpoint holds several dictionaries of tensors; pick one with a key path.
    case ambiguousStateDict(path: String, candidates: [[String]])
    /// The requested key path does not lead to a dictionary of tensors.
    case stateDictNotFound(path: String, keyPath: [String])
    /// The same key appears in more than one file of a sharded checkpoint, or two keys map to
    /// the same name after renaming.
    case duplicateKey(key: String, sources: [String])
    /// The store does not match what a model expects. All problems are listed at once.
    case keyMismatch(missing: [String], unexpected: [String], misShaped: [ShapeMismatch])

    public var description: String {
        switch self {
        case .unreadable(let path, let reason):
            "cannot read \(path): \(reason)"
        case .missingTensor(let key):
            "no tensor named '\(key.abbreviated())' in the weights; check the model folder and the key rules"
        case .unexpectedShape(let key, let expected, let actual):
            "tensor '\(key.abbreviated())' has shape \(actual) but \(expected) is required; the checkpoint does not match the model configuration"
        case .unsupportedDType(let path, let dtype):
            "\(path) stores tensors of type \(dtype.abbreviated(to: 40)); only float32, float16, bfloat16, float64 and integer types are read"
        case .corrupt(let path, let reason):
            "\(path) is damaged or not a weight file: \(reason.abbreviated(to: 400))"
        case .unsupportedFormat(let path, let reason):
            "\(path) uses an unsupported variant: \(reason.abbreviated(to: 400))"
        case .legacyTorchFormat(let path):
            "\(path) is a pre-0.4 PyTorch tar checkpoint; load it in Python and save it again with torch.save (or convert it to safetensors)"
        case .forbiddenGlobal(let path, let module, let name):
            "refused to load \(path): its pickle references \(module.abbreviated()).\(name.abbreviated()), which is not a tensor or container type; nothing was executed. Convert the file to safetensors from a trusted Python environment"
        case .forbiddenOpcode(let path, let opcode, let offset):
            "refused to load \(path): pickle opcode \(opcode) at byte \(offset) of the pickle is not allowed in a state dict; nothing was executed"
        case .ambiguousStateDict(let path, let candidates):
            "\(path) holds several dictionaries of tensors (\(Self.list(candidates.map { "[" + Self.list($0) + "]" })))); choose one with a key path"
        case .stateDictNotFound(let path, let keyPath):
            keyPath.isEmpty
                ? "\(path) holds no dictionary of tensors"
                : "\(path) has no dictionary of tensors at key path [\(Self.list(keyPath))]"
        case .duplicateKey(let key, let sources):
            "key '\(key.abbreviated())' appears more than once (\(Self.list(sources)))"
        case .keyMismatch(let missing, let unexpected, let misShaped):
            Self.mismatchDescription(missing: missing, unexpected: unexpected, misShaped: misShaped)
        }
    }

    /// Items for a message: each cut to 200 characters, at most 100 of them (keys and names come
    /// from the file, and a hostile file can make them megabytes long).
    private static func list(_ items: [String]) -> String {
        let shown = items.prefix(100).map { $0.abbreviated() }.joined(separator: ", ")
        return items.count > 100 ? shown + ", … (\(items.count - 100) more)" : shown
    }

    private static func mismatchDescription(missing: [String], unexpected: [String],
                                            misShaped: [ShapeMismatch]) -> String {
        var lines = ["the weights do not match the model:"]
        if !missing.isEmpty {
            lines.append("  \(missing.count) missing: " + list(missing))
        }
        if !unexpected.isEmpty {
            lines.append("  \(unexpected.count) unexpected: " + list(unexpected))
        }
        if !misShaped.isEmpty {
            lines.append("  \(misShaped.count) with the wrong shape: "
                         + misShaped.prefix(100).map(\.description).joined(separator: "; "))
        }
        return lines.joined(separator: "\n")
    }
}
