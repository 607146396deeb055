/// The element type of a stored tensor, before it is widened to `Float`.
///
/// Mirrors PyTorch's `c10::ScalarType` for the types a checkpoint of this project can hold, and
/// the safetensors dtype strings (`F32`, `F16`, `BF16`, …; safetensors `Dtype` in
/// safetensors/src/tensor.rs). Every type is widened to `Float` on access: half precision exactly,
/// `Double` and 64-bit integers by rounding (position ids and step counters are small).
public enum ScalarType: String, Sendable, CaseIterable {
    case float32, float16, bfloat16, float64
    case int64, int32, int16, int8, uint8, bool

    /// Bytes per element.
    public var byteCount: Int {
        switch self {
        case .float64, .int64: 8
        case .float32, .int32: 4
        case .float16, .bfloat16, .int16: 2
        case .int8, .uint8, .bool: 1
        }
    }

    /// The dtype string of the safetensors header (`"F32"`, `"BF16"`, …), or `nil` for an
    /// unknown or unsupported one.
    public init?(safetensorsName name: String) {
        switch name {
        case "F32": self = .float32
        case "F16": self = .float16
        case "BF16": self = .bfloat16
        case "F64": self = .float64
        case "I64": self = .int64
        case "I32": self = .int32
        case "I16": self = .int16
        case "I8": self = .int8
        case "U8": self = .uint8
        case "BOOL": self = .bool
        default: return nil
        }
    }

    /// The legacy typed-storage class that `torch.save` names in its pickle
    /// (`torch.FloatStorage`, `torch.HalfStorage`, …; torch/storage.py `_pickle_storage_type`).
    public init?(torchStorageName name: String) {
        switch name {
        case "FloatStorage": self = .float32
        case "HalfStorage": self = .float16
        case "BFloat16Storage": self = .bfloat16
        case "DoubleStorage": self = .float64
        case "LongStorage": self = .int64
        case "IntStorage": self = .int32
        case "ShortStorage": self = .int16
        case "CharStorage": self = .int8
        case "ByteStorage": self = .uint8
        case "BoolStorage": self = .bool
        default: return nil
        }
    }

    /// The `torch.<dtype>` attribute names (`torch.float32`, `torch.half`, …) a pickle may
    /// reference as plain values.
    init?(torchDTypeName name: String) {
        switch name {
        case "float32", "float": self = .float32
        case "float16", "half": self = .float16
        case "bfloat16": self = .bfloat16
        case "float64", "double": self = .float64
        case "int64", "long": self = .int64
        case "int32", "int": self = .int32
        case "int16", "short": self = .int16
        case "int8": self = .int8
        case "uint8": self = .uint8
        case "bool": self = .bool
        default: return nil
        }
    }
}
