import Compute
import Testing
import TestSupport

/// `UpsamplingConvolution` computes nearest ×2 then a 3×3, padding-1 convolution as four 2×2
/// convolutions of the input. Held to the definition in double precision (the upsampled image
/// convolved term by term) and to the path it replaces (`Resize.upsampleNearest2x`, then the direct
/// `conv2d`) within float rounding, on planes with odd and even sides, batch 2, every border, with
/// and without a bias, and a case large enough to be cut between threads.
@Suite("upsampling convolution on the input's grid")
struct UpsamplingConvolutionTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let channels: Int, outputs: Int, height: Int, width: Int, bias: Bool
        var testDescription: String { "\(channels)→\(outputs), \(height)×\(width)" + (bias ? ", bias" : "") }
    }

    static let cases = [
        Case(channels: 3, outputs: 5, height: 1, width: 1, bias: true),
        Case(channels: 7, outputs: 4, height: 5, width: 3, bias: false),
        Case(channels: 16, outputs: 24, height: 8, width: 32, bias: true),
        Case(channels: 40, outputs: 40, height: 17, width: 66, bias: true),
    ]

    /// `b[o] + Σ_{c,i,j} w[o, c, i, j] · u[n, c, y − 1 + i, x − 1 + j]` with `u` the input repeated
    /// twice along each axis (0 outside), in Double.
    private func definition(_ x: Tensor, _ w: Tensor, _ b: Tensor?, _ shape: Case) -> [Float] {
        let (outHeight, outWidth) = (2 * shape.height, 2 * shape.width)
        var y = [Float](repeating: 0, count: 2 * shape.outputs * outHeight * outWidth)
        for n in 0..<2 {
            for o in 0..<shape.outputs {
                for row in 0..<outHeight {
                    for column in 0..<outWidth {
                        var sum = Double(b?.scalars[o] ?? 0)
                        for c in 0..<shape.channels {
                            for i in 0..<3 {
                                for j in 0..<3 {
                                    let (upRow, upColumn) = (row - 1 + i, column - 1 + j)
                                    guard (0..<outHeight).contains(upRow), (0..<outWidth).contains(upColumn) else { continue }
                                    let value = x.scalars[((n * shape.channels + c) * shape.height + upRow / 2) * shape.width + upColumn / 2]
                                    sum += Double(w.scalars[((o * shape.channels + c) * 3 + i) * 3 + j]) * Double(value)
                                }
                            }
                        }
                        y[((n * shape.outputs + o) * outHeight + row) * outWidth + column] = Float(sum)
                    }
                }
            }
        }
        return y
    }

    @Test("agrees with nearest ×2 then the 3×3 convolution, by definition and through the direct path", arguments: cases)
    func upsampling(shape: Case) {
        var random = TorchRandomSource(seed: 11)
        let x = random.normal(shape: [2, shape.channels, shape.height, shape.width])
        let w = random.normal(shape: [shape.outputs, shape.channels, 3, 3]) * (1 / Float(9 * shape.channels).squareRoot())
        let b = shape.bias ? random.normal(shape: [shape.outputs]) : nil
        let actual = UpsamplingConvolution(weight: w, bias: b)(x)
        #expect(actual.shape == [2, shape.outputs, 2 * shape.height, 2 * shape.width])
        let byDefinition = compare(actual.scalars, definition(x, w, b, shape))
        #expect(byDefinition.isWithin(.exact), "\(byDefinition)")
        let direct = Convolution.conv2d(Resize.upsampleNearest2x(x), weight: w, bias: b, padding: 1)
        let againstDirect = compare(actual, direct)
        #expect(againstDirect.isWithin(.exact), "\(againstDirect)")
    }
}
