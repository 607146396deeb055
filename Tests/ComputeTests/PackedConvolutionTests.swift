import Compute
import Testing
import TestSupport

/// `conv1d` and the direct `conv2d` pack the columns of their product straight from the image
/// (`ck_conv`), read the input through leaky ReLU (`conv1d`) and add the bias and a residual as
/// they store each tile. These cases cover several blocks of depth (C·kh·kw > 384; > 768 for bfloat16), output channels
/// and positions that fill no whole register tile, panels across output rows, every border,
/// strides 1 and 2, dilations, batch 2 and the cut into one piece per thread (along positions, or
/// along channels when those are more), outside the batched path of small planes, on every instruction set this CPU supports (the AVX2
/// kernels and the OpenBLAS baseline on an AVX-512 machine too). Each is held to the definition in
/// double precision and, bit for bit, to the unfused sequence it replaces: leaky ReLU, im2col
/// columns and `BLAS.sgemm` on the same instruction set, the bias, the residual.
@Suite("convolutions without im2col")
struct PackedConvolutionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        /// `height == 1` with `kernelHeight == 1` is a `conv1d` (padded along the width only).
        let channels: Int, outputs: Int, height: Int, width: Int, kernelHeight: Int, kernelWidth: Int
        let stride: Int, padding: Int, dilation: Int, slope: Float?, residual: Bool
        var oneDimensional: Bool { height == 1 && kernelHeight == 1 }
        var rowPadding: Int { oneDimensional ? 0 : padding }
        var outHeight: Int { (height + 2 * rowPadding - dilation * (kernelHeight - 1) - 1) / stride + 1 }
        var outWidth: Int { (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1 }
        var inputShape: [Int] { oneDimensional ? [2, channels, width] : [2, channels, height, width] }
        var weightShape: [Int] { oneDimensional ? [outputs, channels, kernelWidth] : [outputs, channels, kernelHeight, kernelWidth] }
        var outputShape: [Int] { oneDimensional ? [2, outputs, outWidth] : [2, outputs, outHeight, outWidth] }
        var testDescription: String {
            (oneDimensional ? "1-D \(channels)→\(outputs), L \(width), k \(kernelWidth)"
                : "2-D \(channels)→\(outputs), \(height)×\(width), \(kernelHeight)×\(kernelWidth)")
                + ", s \(stride), p \(padding), d \(dilation)" + (slope.map { ", leaky \($0)" } ?? "") + (residual ? ", + residual" : "")
        }
    }

    static let cases = [
        Case(channels: 40, outputs: 37, height: 1, width: 1500, kernelHeight: 1, kernelWidth: 11, stride: 1, padding: 25,
             dilation: 5, slope: 0.1, residual: true),
        Case(channels: 33, outputs: 7, height: 1, width: 2001, kernelHeight: 1, kernelWidth: 7, stride: 1, padding: 3,
             dilation: 1, slope: 0.01, residual: false),
        Case(channels: 29, outputs: 50, height: 1, width: 999, kernelHeight: 1, kernelWidth: 3, stride: 2, padding: 4,
             dilation: 3, slope: nil, residual: true),
        Case(channels: 300, outputs: 13, height: 1, width: 1000, kernelHeight: 1, kernelWidth: 1, stride: 1, padding: 0,
             dilation: 1, slope: 0.1, residual: false),
        // Rows of 64 positions (whole panels), then rows of 45 (panels across rows), then stride 2.
        Case(channels: 35, outputs: 30, height: 20, width: 64, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1,
             dilation: 1, slope: nil, residual: true),
        Case(channels: 19, outputs: 26, height: 31, width: 45, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 2,
             dilation: 2, slope: nil, residual: false),
        Case(channels: 24, outputs: 40, height: 70, width: 80, kernelHeight: 3, kernelWidth: 3, stride: 2, padding: 1,
             dilation: 1, slope: nil, residual: true),
        // Depths 810: four float32 blocks, two of bfloat16 pairs.
        Case(channels: 90, outputs: 20, height: 12, width: 40, kernelHeight: 3, kernelWidth: 3, stride: 1, padding: 1,
             dilation: 1, slope: nil, residual: true),
        // More output channels than positions: the cut between threads runs along channels.
        Case(channels: 64, outputs: 200, height: 1, width: 150, kernelHeight: 1, kernelWidth: 5, stride: 1, padding: 2,
             dilation: 1, slope: 0.1, residual: true),
    ]

    static let instructionSets = InstructionSet.allCases.filter { $0 <= InstructionSet.supported }

    /// `r[n, o, q] + (b[o] + Σ_{c, i, j} g(w[o, c, i, j]) · g(f(x[n, c, y·s − p + i·d, x·s − p + j·d])))` (0 outside),
    /// in Double; `g` is `element` (the identity, or rounding to bfloat16).
    private func definition(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ r: Tensor?, _ shape: Case,
                            element: (Float) -> Float = { $0 }) -> [Float] {
        let plane = shape.outHeight * shape.outWidth
        var y = [Float](repeating: 0, count: 2 * shape.outputs * plane)
        for n in 0..<2 {
            for o in 0..<shape.outputs {
                for position in 0..<plane {
                    var sum = Double(b.scalars[o])
                    for (depth, value) in columnValues(x, item: n, position: position, shape) {
                        sum += Double(element(w.scalars[o * shape.channels * shape.kernelHeight * shape.kernelWidth + depth]))
                            * Double(element(value))
                    }
                    let at = (n * shape.outputs + o) * plane + position
                    y[at] = Float(sum + Double(r?.scalars[at] ?? 0))
                }
            }
        }
        return y
    }

    /// The im2col column of output `position` of batch item `item`: (depth, value) pairs inside the image.
    private func columnValues(_ x: Tensor, item: Int, position: Int, _ shape: Case) -> [(Int, Float)] {
        let (row, column) = position.quotientAndRemainder(dividingBy: shape.outWidth)
        var values: [(Int, Float)] = []
        for c in 0..<shape.channels {
            for i in 0..<shape.kernelHeight {
                for j in 0..<shape.kernelWidth {
                    let sourceRow = row * shape.stride - shape.rowPadding + i * shape.dilation
                    let sourceColumn = column * shape.stride - shape.padding + j * shape.dilation
                    guard (0..<shape.height).contains(sourceRow) && (0..<shape.width).contains(sourceColumn) else { continue }
                    let value = x.scalars[((item * shape.channels + c) * shape.height + sourceRow) * shape.width + sourceColumn]
                    values.append(((c * shape.kernelHeight + i) * shape.kernelWidth + j, shape.slope.map { value >= 0 ? value : value * $0 } ?? value))
                }
            }
        }
        return values
    }

    /// The operations the fused call replaces, one after the other, with `BLAS.sgemm` on `isa`.
    private func unfused(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ r: Tensor?, _ shape: Case, _ isa: InstructionSet) -> [Float] {
        let (patch, positions) = (shape.channels * shape.kernelHeight * shape.kernelWidth, shape.outHeight * shape.outWidth)
        var y = [Float](repeating: 0, count: 2 * shape.outputs * positions)
        for n in 0..<2 {
            var columns = [Float](repeating: 0, count: patch * positions)
            for position in 0..<positions {
                for (depth, value) in columnValues(x, item: n, position: position, shape) { columns[depth * positions + position] = value }
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
        var result = Tensor(shape: [2, shape.outputs, positions], scalars: y) + b.reshaped([shape.outputs, 1])
        if let r { result.add(r.reshaped([2, shape.outputs, positions])) }
        return result.scalars
    }

    private struct Operands {
        let x: Tensor, w: Tensor, b: Tensor, r: Tensor?
    }

    private func operands(_ shape: Case) -> Operands {
        var random = TorchRandomSource(seed: 5)
        let x = random.normal(shape: shape.inputShape)
        let scale = 1 / Float(shape.channels * shape.kernelHeight * shape.kernelWidth).squareRoot()
        let w = random.normal(shape: shape.weightShape) * scale
        let b = random.normal(shape: [shape.outputs])
        return Operands(x: x, w: w, b: b, r: shape.residual ? random.normal(shape: shape.outputShape) : nil)
    }

    private func convolution(_ o: Operands, _ shape: Case, _ instructionSet: InstructionSet) -> Tensor {
        shape.oneDimensional
            ? Convolution.conv1d(o.x, weight: o.w, bias: o.b, stride: shape.stride, padding: shape.padding, dilation: shape.dilation,
                                 inputSlope: shape.slope, adding: o.r, instructionSet: instructionSet)
            : Convolution.conv2d(o.x, weight: o.w, bias: o.b, stride: shape.stride, padding: shape.padding, dilation: shape.dilation,
                                 adding: o.r, instructionSet: instructionSet)
    }

    @Test("agrees with the definition, and to the bit with leaky ReLU, im2col, GEMM, bias and residual apart",
          arguments: cases, instructionSets)
    func fused(shape: Case, instructionSet: InstructionSet) {
        let o = operands(shape)
        #expect(2 * shape.outputs * shape.channels * shape.kernelHeight * shape.kernelWidth * shape.outHeight * shape.outWidth
                >= BLAS.parallelMinimumWork, "the case must be large enough to be cut between threads")
        let actual = convolution(o, shape, instructionSet)
        #expect(actual.shape == shape.outputShape)
        let discrepancy = compare(actual.scalars, definition(o.x, o.w, o.b, o.r, shape))
        #expect(discrepancy.isWithin(.exact), "\(discrepancy)")
        #expect(actual.scalars == unfused(o.x, o.w, o.b, o.r, shape, instructionSet))
    }

    @Test("in a bfloat16 scope on AVX-512 BF16: the exact sums of the rounded weight and columns, and to the bit the unfused sequence in the same scope",
          .enabled(if: InstructionSet.active >= .avx512bf16, "the CPU has no AVX-512 BF16 (or AUFFUSION_ISA narrows it)"),
          arguments: cases)
    func bfloat16(shape: Case) {
        let o = operands(shape)
        let actual = ProductPrecision.with(.bfloat16) { convolution(o, shape, .active) }
        let discrepancy = compare(actual.scalars, definition(o.x, o.w, o.b, o.r, shape, element: BFloat16ProductTests.rounded))
        #expect(discrepancy.isWithin(.exact), "\(discrepancy)")
        #expect(actual.scalars == ProductPrecision.with(.bfloat16) { unfused(o.x, o.w, o.b, o.r, shape, .active) })
        #expect(actual.scalars != convolution(o, shape, .active).scalars, "the scope must change the products")
    }
}
