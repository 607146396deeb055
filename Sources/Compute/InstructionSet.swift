import CKernels
import Foundation

/// The vector instruction sets the matrix-product kernels can run on, chosen when the process
/// starts: the widest this CPU supports (`ck_cpu_features`, from CPUID and the operating system's
/// saved vector state), unless `AUFFUSION_ISA` asks for a narrower one.
///
/// The Swift code is compiled for one baseline CPU; the kernels of the `CKernels` target carry their
/// own instruction-set attributes and run only where the CPU has them, so one binary is correct and
/// fast on an AVX2-only machine and on an AVX-512 one. `AUFFUSION_ISA=avx2` or `baseline` forces
/// the narrower paths on a wider machine (to test them, or to compare); `AUFFUSION_ISA=avx512`
/// keeps bfloat16 products off where the CPU has them.
public enum InstructionSet: Int, Comparable, Sendable, CaseIterable, CustomStringConvertible {
    /// OpenBLAS's single-precision GEMM (whatever kernel it picked for this CPU).
    case baseline
    /// AVX2 with FMA: 6 × 16 register tiles of 256-bit vectors.
    case avx2
    /// AVX-512 F: 12 × 32 register tiles of 512-bit vectors (8 × 32 for products of few rows that
    /// are a multiple of 8 but not of 12).
    case avx512
    /// AVX-512 with BF16 dot products (`VDPBF16PS`, and BW for their packers): the float32 kernels
    /// of ``avx512``, and bfloat16 products where a scope asks for them (``ProductPrecision``).
    case avx512bf16

    /// The widest set this CPU and operating system support.
    public static let supported: InstructionSet = {
        let features = ck_cpu_features()
        if features & UInt32(CK_FEATURE_AVX512_BF16) != 0 { return .avx512bf16 }
        if features & UInt32(CK_FEATURE_AVX512) != 0 { return .avx512 }
        if features & UInt32(CK_FEATURE_AVX2) != 0 { return .avx2 }
        return .baseline
    }()

    /// The CPU's vendor as CPUID leaf 0 names it ("AuthenticAMD", "GenuineIntel"); empty where
    /// there is no CPUID.
    public static let vendor: String = {
        var name = [CChar](repeating: 0, count: 13)
        ck_cpu_vendor(&name)
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()

    /// The set the kernels use: ``supported``, capped by `AUFFUSION_ISA` when it names a narrower one.
    public static let active: InstructionSet = capped(supported, by: ProcessInfo.processInfo.environment["AUFFUSION_ISA"])

    /// The value of `AUFFUSION_ISA` in `environment` when it names no instruction set (a typo such
    /// as `avx-2` would otherwise run the widest set without a word); `nil` when unset or known.
    public static func unknownRequest(in environment: [String: String]) -> String? {
        guard let request = environment["AUFFUSION_ISA"], !allCases.contains(where: { $0.description == request.lowercased() }) else {
            return nil
        }
        return request
    }

    /// `supported`, or the set `request` names (`baseline`, `avx2`, `avx512`, `avx512bf16`) if that is narrower.
    /// An unknown or absent name leaves `supported` as it is.
    public static func capped(_ supported: InstructionSet, by request: String?) -> InstructionSet {
        guard let request, let named = allCases.first(where: { $0.description == request.lowercased() }) else { return supported }
        return min(named, supported)
    }

    public var description: String {
        switch self {
        case .baseline: "baseline"
        case .avx2: "avx2"
        case .avx512: "avx512"
        case .avx512bf16: "avx512bf16"
        }
    }

    public static func < (lhs: InstructionSet, rhs: InstructionSet) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The `CKernels` variant for this set, or `nil` for the baseline (OpenBLAS, Swift's own vectors).
    var kernel: ck_isa? {
        switch self {
        case .avx512, .avx512bf16: CK_ISA_AVX512
        case .avx2: CK_ISA_AVX2
        case .baseline: nil
        }
    }
}
