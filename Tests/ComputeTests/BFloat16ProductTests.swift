import Compute
import Testing
import TestSupport

/// bfloat16 products (``ProductPrecision``): inside a bfloat16 scope, on a CPU with AVX-512 BF16,
/// `BLAS.sgemm` rounds every operand to bfloat16 and sums the exact products in float32; anywhere
/// else the products stay float32 to the bit; the scope reaches the threads of parallel work.
@Suite("bfloat16 products")
struct BFloat16ProductTests {
    /// `value` rounded to the nearest bfloat16 (ties to the even one), subnormals to zero: the
    /// two bfloat16 neighbours of a float are its upper 16 bits and that plus one unit.
    static func rounded(_ value: Float) -> Float {
        let bits = value.bitPattern
        if bits & 0x7F80_0000 == 0 { return Float(bitPattern: bits & 0x8000_0000) }
        let below = Float(bitPattern: bits & 0xFFFF_0000), above = Float(bitPattern: (bits & 0xFFFF_0000) &+ 0x1_0000)
        let (gapBelow, gapAbove) = (abs(Double(value) - Double(below)), abs(Double(above) - Double(value)))
        if gapBelow != gapAbove { return gapBelow < gapAbove ? below : above }
        return (bits >> 16) & 1 == 0 ? below : above
    }

    typealias Shape = MatrixProductBlockTests.Shape

    /// Whole register tiles and ragged ones, odd depths (a last pair with one depth), depths past
    /// two 512-deep blocks (up to 768 run as one), and the two cuts among threads; β = 1 on half of them.
    static let shapes: [Shape] = [false, true].flatMap { transposeA in
        [false, true].flatMap { transposeB in
            [(1, 1, 1), (12, 32, 2), (13, 33, 3), (37, 70, 1031), (301, 77, 190), (45, 333, 171)].enumerated().map {
                Shape(m: $1.0, n: $1.1, k: $1.2, transposeA: transposeA, transposeB: transposeB, beta: Float($0 % 2))
            }
        }
    }

    private func operands(_ shape: Shape) -> (a: [Float], b: [Float], c: [Float]) {
        var random = TorchRandomSource(seed: 23)
        return ((random.normal(shape: [(shape.transposeA ? shape.k : shape.m) * shape.lda]) * 0.1).scalars,
                (random.normal(shape: [(shape.transposeB ? shape.n : shape.k) * shape.ldb]) * 0.1).scalars,
                random.normal(shape: [shape.m * shape.ldc]).scalars)
    }

    private func product(_ shape: Shape, _ a: [Float], _ b: [Float], _ c: [Float], _ instructionSet: InstructionSet = .active) -> [Float] {
        MatrixProductBlockTests.product(shape, a, b, c, instructionSet)
    }

    private func definition(_ shape: Shape, _ a: [Float], _ b: [Float], _ c: [Float], element: (Float) -> Float) -> [Float] {
        MatrixProductBlockTests.definition(a, b, c, shape, element: element)
    }

    @Test("the rounding helper rounds to nearest, ties to even, subnormals to zero")
    func rounding() {
        #expect(Self.rounded(1 + 0x1p-8) == 1)                               // a tie above an even neighbour stays
        #expect(Self.rounded(1 + 0x1p-7 + 0x1p-8) == 1 + 0x1p-6)             // a tie above an odd one goes up
        #expect(Self.rounded(1 + 0x1p-8 + 0x1p-20) == 1 + 0x1p-7)            // past the tie: up
        #expect(Self.rounded(-3.0e-39) == 0 && Self.rounded(-3.0e-39).sign == .minus)
        #expect(Self.rounded(0.1) == Float(bitPattern: 0x3DCD_0000))
    }

    @Test("on AVX-512 BF16, a bfloat16 scope's product is the exact sum of the rounded operands, whole, cut among threads and inside parallel work",
          .enabled(if: InstructionSet.active >= .avx512bf16, "the CPU has no AVX-512 BF16 (or AUFFUSION_ISA narrows it)"),
          arguments: shapes)
    func roundedOperands(shape: Shape) {
        let (a, b, c) = operands(shape)
        let expected = definition(shape, a, b, c, element: Self.rounded)
        let whole = ProductPrecision.with(.bfloat16) { product(shape, a, b, c) }
        #expect(compare(whole, expected).isWithin(.exact), "\(compare(whole, expected))")
        var nested = [Float]()
        ProductPrecision.with(.bfloat16) {
            ComputeThreads.parallelFor(2) { chunk in
                if chunk == 0 { nested = product(shape, a, b, c) }
            }
        }
        #expect(compare(nested, expected).isWithin(.exact), "\(compare(nested, expected))")
        if shape.k > 100 {
            // Rounding the operands moves the result by about 2⁻⁹ of each product: far more than
            // float32's own error, so a bfloat16 scope that ran float32 products would fail here.
            let float32 = definition(shape, a, b, c, element: { $0 })
            #expect(!compare(whole, float32).isWithin(Tolerance(nmse: 1e-9, maxAbs: 1)), "\(compare(whole, float32))")
        }
    }

    @Test("where bfloat16 products are not available, a bfloat16 scope's products are float32's to the bit",
          arguments: InstructionSet.allCases.filter { $0 < .avx512bf16 && $0 <= InstructionSet.supported })
    func fallback(instructionSet: InstructionSet) {
        let shape = Self.shapes[5]
        let (a, b, c) = operands(shape)
        let float32 = product(shape, a, b, c, instructionSet)
        #expect(ProductPrecision.with(.bfloat16) { product(shape, a, b, c, instructionSet) } == float32)
        #expect(!ProductPrecision.bfloat16.runs(on: instructionSet))
    }

    @Test("the scope is float32 outside, reaches every chunk of parallel work, nests and is restored")
    func scope() {
        #expect(ProductPrecision.current == .float32)
        ProductPrecision.with(.bfloat16) {
            #expect(ProductPrecision.current == .bfloat16)
            var seen = [ProductPrecision](repeating: .float32, count: 8)
            seen.withUnsafeMutableBufferPointer { seen in
                ComputeThreads.parallelFor(8) { chunk in seen[chunk] = ProductPrecision.current }
            }
            #expect(seen.allSatisfy { $0 == .bfloat16 })
            ProductPrecision.with(.float32) { #expect(ProductPrecision.current == .float32) }
            #expect(ProductPrecision.current == .bfloat16)
        }
        #expect(ProductPrecision.current == .float32)
        var outside = [ProductPrecision](repeating: .bfloat16, count: 4)
        outside.withUnsafeMutableBufferPointer { outside in
            ComputeThreads.parallelFor(4) { chunk in outside[chunk] = ProductPrecision.current }
        }
        #expect(outside.allSatisfy { $0 == .float32 })
    }
}
