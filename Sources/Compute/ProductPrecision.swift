/// The precision the matrix products of a scope round their operands to: float32 (the reference's
/// numbers), or bfloat16 operands summed in float32 — the products of `torch.autocast("cpu",
/// dtype=torch.bfloat16)`, though everything between the products (normalisation, softmax,
/// activations, the sums themselves) stays in float32 here.
///
/// A scope, like autocast: ``with(_:_:)`` sets it for the calling thread, and
/// ``ComputeThreads/parallelFor(_:_:)`` hands it to the threads running its chunks, so every
/// ``BLAS`` product started inside the scope sees it. bfloat16 products run only where the CPU has
/// ``InstructionSet/avx512bf16`` (and `AUFFUSION_ISA` allows it); elsewhere they stay float32, the
/// exact path's products, bit for bit.
public enum ProductPrecision: String, Codable, Sendable, CaseIterable {
    case float32
    case bfloat16

    /// Decodes `"float32"` or `"bfloat16"`; any other value is an error that names both.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let name = try container.decode(String.self)
        guard let precision = Self(rawValue: name) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "must be float32 or bfloat16, got \"\(name)\"")
        }
        self = precision
    }

    /// The precision of the calling thread's scope; ``float32`` outside any.
    public static var current: ProductPrecision { ThreadScope.precision }

    /// Runs `body` with `precision` as the calling thread's ``current``, then restores the previous one.
    public static func with<Result>(_ precision: ProductPrecision, _ body: () throws -> Result) rethrows -> Result {
        let previous = ThreadScope.precision
        ThreadScope.precision = precision
        defer { ThreadScope.precision = previous }
        return try body()
    }

    /// Whether products in this precision run as such with `instructionSet` (bfloat16 needs
    /// ``InstructionSet/avx512bf16``; float32 always does).
    public func runs(on instructionSet: InstructionSet) -> Bool {
        self == .float32 || instructionSet >= .avx512bf16
    }

    /// The faster precision of products on this machine, which the fast preset takes
    /// (``fastest(on:vendor:)`` of ``InstructionSet/active`` and ``InstructionSet/vendor``).
    public static let fastest = fastest(on: .active, vendor: InstructionSet.vendor)

    /// bfloat16 where `instructionSet` has BF16 dot products and the vendor's cores run them
    /// faster than float32 products, float32 elsewhere. Measured (docs/compute.md, "bfloat16
    /// products"): on AMD's Zen 4 a guided U-Net step took 0.64× its float32 time; on an Intel
    /// Xeon with AVX-512 BF16 (no AMX) it took 1.50×, its `VDPBF16PS` micro-kernel 1.8× the time
    /// of the float32 one for the same products, so Intel CPUs keep float32.
    public static func fastest(on instructionSet: InstructionSet, vendor: String) -> ProductPrecision {
        bfloat16.runs(on: instructionSet) && vendor == "AuthenticAMD" ? .bfloat16 : .float32
    }

    /// The precision that products asked for in this one actually run in on this machine
    /// (``InstructionSet/active``): itself, or float32 where the CPU has no BF16 dot products.
    public var asRun: ProductPrecision { runs(on: .active) ? self : .float32 }
}
