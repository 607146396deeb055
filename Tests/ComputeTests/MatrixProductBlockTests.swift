import Compute
import Foundation
import Testing
import TestSupport

/// `BLAS.sgemm` cuts products of at least ``BLAS/parallelMinimumWork`` multiply-adds into blocks
/// of rows (m ≥ n) or columns of C, one per thread, and runs them whole inside parallel work.
/// The kernel fixtures reach the column cut only untransposed, so these cases cover every
/// transpose, both cuts, sizes that are not multiples of the block granularity, padded leading
/// dimensions and `beta = 1`, against the definition evaluated in double precision, on every
/// instruction set this CPU supports (so an AVX-512 machine also runs the AVX2 and OpenBLAS paths).
@Suite("matrix products cut into blocks")
struct MatrixProductBlockTests {
    /// `C = alpha · op(A) · op(B) + beta · C` in Double, over the padded row-major layouts, each
    /// element of A and B through `element` first (the identity, or a rounding).
    static func definition(_ a: [Float], _ b: [Float], _ c: [Float], _ shape: Shape, element: (Float) -> Float = { $0 }) -> [Float] {
        var result = c
        for i in 0..<shape.m {
            for j in 0..<shape.n {
                var sum = 0.0
                for p in 0..<shape.k {
                    let x = shape.transposeA ? a[p * shape.lda + i] : a[i * shape.lda + p]
                    let y = shape.transposeB ? b[j * shape.ldb + p] : b[p * shape.ldb + j]
                    sum += Double(element(x)) * Double(element(y))
                }
                result[i * shape.ldc + j] = Float(Double(shape.alpha) * sum + Double(shape.beta) * Double(c[i * shape.ldc + j]))
            }
        }
        return result
    }

    struct Shape: CustomTestStringConvertible, Sendable {
        let m: Int, n: Int, k: Int, transposeA: Bool, transposeB: Bool, beta: Float
        let alpha: Float = 0.5
        var lda: Int { (transposeA ? m : k) + 3 }
        var ldb: Int { (transposeB ? k : n) + 5 }
        var ldc: Int { n + 2 }
        var testDescription: String {
            "\(m)×\(n)×\(k)\(transposeA ? " Aᵀ" : "")\(transposeB ? " Bᵀ" : "")\(beta != 0 ? " β=1" : "")"
        }
    }

    static let shapes: [Shape] = [false, true].flatMap { transposeA in
        [false, true].flatMap { transposeB in
            [Shape(m: 301, n: 77, k: 190, transposeA: transposeA, transposeB: transposeB, beta: 0),   // rows
             Shape(m: 45, n: 333, k: 170, transposeA: transposeA, transposeB: transposeB, beta: 1)]   // columns
        }
    }

    static let instructionSets = InstructionSet.allCases.filter { $0 <= InstructionSet.supported }

    /// `BLAS.sgemm` of `shape` on copies of the operands, with `instructionSet` and `precision` (the scope's by default),
    /// adding `columnBias` when given.
    static func product(_ shape: Shape, _ a: [Float], _ b: [Float], _ c: [Float], _ instructionSet: InstructionSet = .active,
                        precision: ProductPrecision = .current, columnBias: [Float]? = nil) -> [Float] {
        var c = c
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { output in
                    let c = output
                    let run = { (bias: UnsafeBufferPointer<Float>?) in
                        BLAS.sgemm(transposeA: shape.transposeA, transposeB: shape.transposeB, m: shape.m, n: shape.n, k: shape.k,
                                   alpha: shape.alpha, a: a, lda: shape.lda, b: b, ldb: shape.ldb, beta: shape.beta, c: c, ldc: shape.ldc,
                                   columnBias: bias, instructionSet: instructionSet, precision: precision)
                    }
                    if let columnBias { columnBias.withUnsafeBufferPointer(run) } else { run(nil) }
                }
            }
        }
        return c
    }

    /// The shapes above, and products of several blocks of depths (the kernels' blocks hold 256, or 512
    /// bfloat16 depths), so that the bias is seen to join after the last block only.
    static let biasShapes = shapes + [false, true].map {
        Shape(m: 70, n: 61, k: 1100, transposeA: $0, transposeB: !$0, beta: $0 ? 1 : 0)
    }

    @Test("a column bias joins each element's rounded sum: the bits of a pass after the product, on every cut and kernel",
          arguments: biasShapes, instructionSets)
    func columnBias(shape: Shape, instructionSet: InstructionSet) {
        var random = TorchRandomSource(seed: 12)
        let a = (random.normal(shape: [(shape.transposeA ? shape.k : shape.m) * shape.lda]) * 0.1).scalars
        let b = (random.normal(shape: [(shape.transposeB ? shape.n : shape.k) * shape.ldb]) * 0.1).scalars
        let c = random.normal(shape: [shape.m * shape.ldc]).scalars
        let bias = random.normal(shape: [shape.n]).scalars
        for precision in [ProductPrecision.float32, .bfloat16] {
            var expected = Self.product(shape, a, b, c, instructionSet, precision: precision)
            for i in 0..<shape.m {
                for j in 0..<shape.n { expected[i * shape.ldc + j] += bias[j] }
            }
            let fused = Self.product(shape, a, b, c, instructionSet, precision: precision, columnBias: bias)
            #expect(fused == expected, "\(precision): \(compare(fused, expected))")
        }
    }

    /// On AVX-512, products of at most 1024 rows that are a multiple of 8 but not of 12 (the
    /// attention's `Vᵀ · Pᵀ`: 40 rows) run in 8-row tiles; 48 rows run in 12-row ones. A row's sums
    /// are the same either way: the first 40 rows of a 48-row product, to the bit.
    @Test("products in 8-row tiles give each row the bits of 12-row tiles",
          .enabled(if: InstructionSet.supported >= .avx512, "the 8-row tiles are AVX-512's"),
          arguments: [40, 320, 1031], [false, true])
    func eightRowTiles(depth: Int, transposeA: Bool) {
        var random = TorchRandomSource(seed: 13)
        let (rows, padded, columns) = (40, 48, 70)
        let lda = transposeA ? padded + 3 : depth + 3, ldc = columns + 2
        let a = (random.normal(shape: [(transposeA ? depth : padded) * lda]) * 0.1).scalars
        let b = (random.normal(shape: [depth * columns]) * 0.1).scalars
        let c = random.normal(shape: [padded * ldc]).scalars
        let bias = random.normal(shape: [columns]).scalars
        for beta: Float in [0, 1] {
            let run = { (m: Int) -> [Float] in
                var output = c
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        bias.withUnsafeBufferPointer { bias in
                            output.withUnsafeMutableBufferPointer { output in
                                BLAS.sgemm(transposeA: transposeA, m: m, n: columns, k: depth, alpha: 0.5, a: a, lda: lda, b: b,
                                           ldb: columns, beta: beta, c: output, ldc: ldc, columnBias: bias, instructionSet: .avx512,
                                           precision: .float32)
                            }
                        }
                    }
                }
                return Array(output[0..<rows * ldc])
            }
            let (eight, twelve) = (run(rows), run(padded))
            #expect(eight == twelve, "β = \(beta): \(compare(eight, twelve))")
        }
    }

    @Test("every cut agrees with the definition and leaves the padding of C alone",
          arguments: shapes, instructionSets)
    func blocks(shape: Shape, instructionSet: InstructionSet) {
        #expect(shape.m * shape.n * shape.k >= BLAS.parallelMinimumWork, "the case must be large enough to be cut")
        var random = TorchRandomSource(seed: 11)
        let a = (random.normal(shape: [(shape.transposeA ? shape.k : shape.m) * shape.lda]) * 0.1).scalars
        let b = (random.normal(shape: [(shape.transposeB ? shape.n : shape.k) * shape.ldb]) * 0.1).scalars
        let c = random.normal(shape: [shape.m * shape.ldc]).scalars
        let expected = Self.definition(a, b, c, shape)
        let whole = Self.product(shape, a, b, c, instructionSet)
        #expect(compare(whole, expected).isWithin(.exact), "\(compare(whole, expected))")

        // Called from inside parallel work, the product runs whole on that thread.
        var nested = [Float]()
        ComputeThreads.parallelFor(2) { chunk in
            if chunk == 0 { nested = Self.product(shape, a, b, c, instructionSet) }
        }
        #expect(compare(nested, expected).isWithin(.exact), "\(compare(nested, expected))")
    }
}

/// `AUFFUSION_ISA` can only narrow the kernels' instruction set, never widen it past the CPU's.
@Suite("instruction set choice")
struct InstructionSetTests {
    @Test("a named narrower set wins; a wider or unknown one leaves the CPU's")
    func capping() {
        #expect(InstructionSet.capped(.avx512, by: "avx2") == .avx2)
        #expect(InstructionSet.capped(.avx512, by: "BASELINE") == .baseline)
        #expect(InstructionSet.capped(.avx2, by: "avx512") == .avx2)
        #expect(InstructionSet.capped(.avx2, by: "sse9") == .avx2)
        #expect(InstructionSet.capped(.avx512, by: nil) == .avx512)
        #expect(InstructionSet.capped(.avx512bf16, by: "avx512") == .avx512)
        #expect(InstructionSet.active <= InstructionSet.supported)
    }

    @Test("the vendor is the one /proc/cpuinfo names (none where it names none, as off x86)",
          .enabled(if: FileManager.default.fileExists(atPath: "/proc/cpuinfo")))
    func vendor() throws {
        let cpuinfo = try String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)
        let line = cpuinfo.split(separator: "\n").first { $0.hasPrefix("vendor_id") }
        #expect((line?.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "") == InstructionSet.vendor)
    }

    @Test("the fast preset's products are bfloat16 only where BF16 dot products outrun float32 ones: AMD's cores with AVX-512 BF16")
    func fastestProducts() {
        #expect(ProductPrecision.fastest(on: .avx512bf16, vendor: "AuthenticAMD") == .bfloat16)
        #expect(ProductPrecision.fastest(on: .avx512bf16, vendor: "GenuineIntel") == .float32)
        for narrower in [InstructionSet.baseline, .avx2, .avx512] {
            #expect(ProductPrecision.fastest(on: narrower, vendor: "AuthenticAMD") == .float32)
        }
        #expect(ProductPrecision.fastest == .fastest(on: .active, vendor: InstructionSet.vendor))
    }
}
