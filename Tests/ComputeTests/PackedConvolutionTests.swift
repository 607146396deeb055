import Compute
import Testing
import TestSupport

/// `conv1d` packs the columns of its product straight from the signal (`ck_conv1d`), reads the
/// input through leaky ReLU and adds the bias and a residual as it stores each tile. These cases
/// cover several blocks of depth (C·k > 256), output channels and positions that fill no whole
/// register tile, both borders, strides 1 and 2, dilations, batch 2 and the cut into one piece per
/// thread, on every instruction set this CPU supports (the AVX2 kernels and the OpenBLAS baseline
/// on an AVX-512 machine too). Each is held to the definition in double precision and, bit for
/// bit, to the unfused sequence it replaces: leaky ReLU, im2col columns and `BLAS.sgemm` on the
/// same instruction set, the bias, the residual.
@Suite("1-D convolutions without im2col")
struct PackedConvolutionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let channels: Int, outputs: Int, length: Int, kernel: Int, stride: Int, padding: Int, dilation: Int
        let slope: Float?, residual: Bool
        var outLength: Int { (length + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1 }
        var testDescription: String {
            "\(channels)→\(outputs), L \(length), k \(kernel), s \(stride), p \(padding), d \(dilation)"
                + (slope.map { ", leaky \($0)" } ?? "") + (residual ? ", + residual" : "")
        }
    }

    static let cases = [
        Case(channels: 40, outputs: 37, length: 1500, kernel: 11, stride: 1, padding: 25, dilation: 5, slope: 0.1, residual: true),
        Case(channels: 33, outputs: 7, length: 2001, kernel: 7, stride: 1, padding: 3, dilation: 1, slope: 0.01, residual: false),
        Case(channels: 29, outputs: 50, length: 999, kernel: 3, stride: 2, padding: 4, dilation: 3, slope: nil, residual: true),
        Case(channels: 300, outputs: 13, length: 1000, kernel: 1, stride: 1, padding: 0, dilation: 1, slope: 0.1, residual: false),
    ]

    static let instructionSets = InstructionSet.allCases.filter { $0 <= InstructionSet.supported }

    /// `r[n, o, l] + (b[o] + Σ_c Σ_j w[o, c, j] · f(x[n, c, l·s − p + j·d]))` (0 outside), in Double.
    private func definition(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ r: Tensor?, _ shape: Case) -> [Float] {
        let batch = x.shape[0]
        var y = [Float](repeating: 0, count: batch * shape.outputs * shape.outLength)
        for n in 0..<batch {
            for o in 0..<shape.outputs {
                for l in 0..<shape.outLength {
                    var sum = Double(b.scalars[o])
                    for c in 0..<shape.channels {
                        for j in 0..<shape.kernel {
                            let index = l * shape.stride - shape.padding + j * shape.dilation
                            guard index >= 0 && index < shape.length else { continue }
                            let value = x.scalars[(n * shape.channels + c) * shape.length + index]
                            let input = shape.slope.map { value >= 0 ? value : value * $0 } ?? value
                            sum += Double(w.scalars[(o * shape.channels + c) * shape.kernel + j]) * Double(input)
                        }
                    }
                    let at = (n * shape.outputs + o) * shape.outLength + l
                    y[at] = Float(sum + Double(r?.scalars[at] ?? 0))
                }
            }
        }
        return y
    }

    /// The operations the fused call replaces, one after the other, with `BLAS.sgemm` on `isa`.
    private func unfused(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ r: Tensor?, _ shape: Case, _ isa: InstructionSet) -> [Float] {
        let input = shape.slope.map { x.leakyReLU(slope: $0) } ?? x
        let (batch, patch, positions) = (x.shape[0], shape.channels * shape.kernel, shape.outLength)
        var y = [Float](repeating: 0, count: batch * shape.outputs * positions)
        for n in 0..<batch {
            var columns = [Float](repeating: 0, count: patch * positions)
            for c in 0..<shape.channels {
                for j in 0..<shape.kernel {
                    for l in 0..<positions {
                        let index = l * shape.stride - shape.padding + j * shape.dilation
                        guard index >= 0 && index < shape.length else { continue }
                        columns[(c * shape.kernel + j) * positions + l] = input.scalars[(n * shape.channels + c) * shape.length + index]
                    }
                }
            }
            w.scalars.withUnsafeBufferPointer { a in
                columns.withUnsafeBufferPointer { b in
                    y.withUnsafeMutableBufferPointer { c in
                        BLAS.sgemm(m: shape.outputs, n: positions, k: patch, a: a, lda: patch, b: b, ldb: positions,
                                   c: UnsafeMutableBufferPointer(rebasing: c[(n * shape.outputs * positions)...]), ldc: positions,
                                   instructionSet: isa)
                    }
                }
            }
        }
        var result = Tensor(shape: [batch, shape.outputs, positions], scalars: y)
        result = result + b.reshaped([shape.outputs, 1])
        if let r { result.add(r) }
        return result.scalars
    }

    @Test("agrees with the definition, and to the bit with leaky ReLU, im2col, GEMM, bias and residual apart",
          arguments: cases, instructionSets)
    func fused(shape: Case, instructionSet: InstructionSet) {
        var random = TorchRandomSource(seed: 5)
        let x = random.normal(shape: [2, shape.channels, shape.length])
        let w = random.normal(shape: [shape.outputs, shape.channels, shape.kernel]) * (1 / Float(shape.channels * shape.kernel).squareRoot())
        let b = random.normal(shape: [shape.outputs])
        let r = shape.residual ? random.normal(shape: [2, shape.outputs, shape.outLength]) : nil
        #expect(2 * shape.outputs * shape.channels * shape.kernel * shape.outLength >= BLAS.parallelMinimumWork,
                "the case must be large enough to be cut between threads")
        let actual = Convolution.conv1d(x, weight: w, bias: b, stride: shape.stride, padding: shape.padding,
                                        dilation: shape.dilation, inputSlope: shape.slope, adding: r, instructionSet: instructionSet)
        #expect(actual.shape == [2, shape.outputs, shape.outLength])
        let discrepancy = compare(actual.scalars, definition(x, w, b, r, shape))
        #expect(discrepancy.isWithin(.exact), "\(discrepancy)")
        #expect(actual.scalars == unfused(x, w, b, r, shape, instructionSet))
    }
}
