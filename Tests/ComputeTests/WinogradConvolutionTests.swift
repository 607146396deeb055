import Compute
import Testing
import TestSupport

/// Winograd's `conv2d` with either tile against the definition evaluated in double precision: on
/// shapes whose tiles, SIMD lanes and channel groups do not come out even, on every instruction set
/// the CPU has for its products (an AVX-512 machine tests the AVX2 and OpenBLAS ones too), and over
/// several bands of tile rows and blocks of output channels (the fixtures of compute_fixtures.py
/// need one of each).
@Suite("Winograd convolution")
struct WinogradConvolutionTests {
    static let instructionSets = InstructionSet.allCases.filter { $0 <= InstructionSet.supported }
    static let strategies: [Convolution.Strategy] = [.winograd, .winograd4x4]
    /// Float32 rounding of a Winograd convolution against the exact sum. Measured: nmse up to 1.4e-12
    /// and max|Δ| up to 2.2e-5 (F(4×4), 520 channels, outputs of magnitude up to about 7), F(2×2)
    /// several times less; a wrong coefficient in a transform gives nmse above 1e-6.
    static let tolerance = Tolerance(nmse: 1e-10, maxAbs: 1e-4)

    /// `y[n, o, i, j] = b[o] + Σ_c Σ_{u,v} w[o, c, u, v] · x[n, c, i − p + u, j − p + v]` (0 outside), in Double.
    private func definition(_ x: Tensor, _ w: Tensor, _ b: Tensor, padding: Int) -> Tensor {
        let (batch, channels, height, width) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
        let outputs = w.shape[0]
        let (outHeight, outWidth) = (height + 2 * padding - 2, width + 2 * padding - 2)
        var y = [Float](repeating: 0, count: batch * outputs * outHeight * outWidth)
        for n in 0..<batch {
            for o in 0..<outputs {
                for i in 0..<outHeight {
                    for j in 0..<outWidth {
                        var sum = Double(b.scalars[o])
                        for c in 0..<channels {
                            for u in 0..<3 where (0..<height).contains(i - padding + u) {
                                for v in 0..<3 where (0..<width).contains(j - padding + v) {
                                    sum += Double(w.scalars[((o * channels + c) * 3 + u) * 3 + v])
                                        * Double(x.scalars[((n * channels + c) * height + i - padding + u) * width + j - padding + v])
                                }
                            }
                        }
                        y[((n * outputs + o) * outHeight + i) * outWidth + j] = Float(sum)
                    }
                }
            }
        }
        return Tensor(shape: [batch, outputs, outHeight, outWidth], scalars: y)
    }

    private func check(_ shape: [Int], padding: Int, strategy: Convolution.Strategy, instructionSet: InstructionSet = .active) {
        let (batch, channels, outputs, height, width) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        var random = TorchRandomSource(seed: 11)
        let x = random.normal(shape: [batch, channels, height, width])
        let w = random.normal(shape: [outputs, channels, 3, 3]) * (0.5 / Float(channels).squareRoot())
        let b = random.normal(shape: [outputs])
        let actual = Convolution.conv2d(x, weight: w, bias: b, padding: padding, strategy: strategy, instructionSet: instructionSet)
        let discrepancy = compare(actual, definition(x, w, b, padding: padding))
        #expect(discrepancy.isWithin(Self.tolerance), "\(strategy), \(instructionSet): \(discrepancy)")
    }

    /// Batch 2 throughout, each item with enough 4 × 4 tiles for F(4×4). Outputs 21 × 46 (tiles of
    /// 4: 5 rows and 1 of 1, 11 columns and 1 of 2; 12 tile columns, a group of 8 lanes and one of
    /// 4), 29 × 36 unpadded (9 tile columns: a group of 8 and one of 1), 13 × 70 (18 tile columns
    /// of 4, 35 of 2); 11, 20 and 3 input channels (groups of 8 lanes for the weight transform:
    /// 8 + 3, 8 + 8 + 4, 3).
    @Test("odd sizes agree with the definition, on every instruction set",
          arguments: [([2, 11, 7, 21, 46], 1), ([2, 20, 9, 31, 38], 0), ([2, 3, 5, 13, 70], 1)], instructionSets)
    func oddSizes(_ shape: ([Int], Int), instructionSet: InstructionSet) {
        let (input, padding) = shape
        let tiles = ((input[3] + 2 * padding - 2 + 3) / 4) * ((input[4] + 2 * padding - 2 + 3) / 4)
        #expect(tiles >= WinogradConvolution.minimumFourByFourTiles, "\(input) would take F(2×2) for F(4×4)")
        for strategy in Self.strategies {
            check(shape.0, padding: shape.1, strategy: strategy, instructionSet: instructionSet)
        }
    }

    /// Two bands of tile rows, one spanning both batch items (2 × 150 × 351 tiles of 2 × 2 times
    /// 16 × (8 + 11) floats: 32 M, and 2 × 75 × 176 tiles of 4 × 4 times 36 × 19: 18 M, over the 16 M
    /// budget); two blocks of output channels (510 × 520 transformed weights per matrix, over the
    /// 256 K budget).
    @Test("a 3×3 conv2d through Winograd agrees with the definition over several bands and output blocks",
          arguments: [[2, 8, 11, 300, 701], [1, 520, 510, 16, 17]], strategies)
    func bands(shape: [Int], strategy: Convolution.Strategy) {
        check(shape, padding: 1, strategy: strategy)
    }
}
