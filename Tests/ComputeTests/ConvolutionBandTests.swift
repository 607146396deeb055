import Compute
import Testing
import TestSupport

/// `conv1d` unfolds long signals in bands of output positions, and Winograd's `conv2d` transforms
/// bands of tile rows (64 MB of scratch at most); the fixtures of compute_fixtures.py are all
/// single-band, so these cases, large enough for two bands, are checked against the definition
/// evaluated in double precision.
@Suite("convolutions over several bands")
struct ConvolutionBandTests {
    /// `y[n, o, l] = b[o] + Σ_c Σ_j w[o, c, j] · x[n, c, l·s − p + j·d]` (0 outside), in Double.
    private func definition(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride: Int, padding: Int, dilation: Int) -> Tensor {
        let (batch, channels, length) = (x.shape[0], x.shape[1], x.shape[2])
        let (outputs, kernel) = (w.shape[0], w.shape[2])
        let outLength = (length + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
        var y = [Float](repeating: 0, count: batch * outputs * outLength)
        for n in 0..<batch {
            for o in 0..<outputs {
                for l in 0..<outLength {
                    var sum = Double(b.scalars[o])
                    for c in 0..<channels {
                        for j in 0..<kernel {
                            let index = l * stride - padding + j * dilation
                            guard index >= 0 && index < length else { continue }
                            sum += Double(w.scalars[(o * channels + c) * kernel + j]) * Double(x.scalars[(n * channels + c) * length + index])
                        }
                    }
                    y[(n * outputs + o) * outLength + l] = Float(sum)
                }
            }
        }
        return Tensor(shape: [batch, outputs, outLength], scalars: y)
    }

    @Test("agrees with the definition when the columns (704 × L′) need two bands", arguments: [(1, 30000, 25, 5), (2, 50000, 5, 1)])
    func bands(stride: Int, length: Int, padding: Int, dilation: Int) {
        var random = TorchRandomSource(seed: 7)
        let x = random.normal(shape: [2, 64, length])
        let w = random.normal(shape: [3, 64, 11]) * 0.05
        let b = random.normal(shape: [3])
        let actual = Convolution.conv1d(x, weight: w, bias: b, stride: stride, padding: padding, dilation: dilation)
        let expected = definition(x, w, b, stride: stride, padding: padding, dilation: dilation)
        let discrepancy = compare(actual, expected)
        #expect(discrepancy.isWithin(.exact), "\(discrepancy)")
    }

    /// `y[n, o, i, j] = b[o] + Σ_c Σ_{u,v} w[o, c, u, v] · x[n, c, i − p + u, j − p + v]` (0 outside), in Double.
    private func definition2d(_ x: Tensor, _ w: Tensor, _ b: Tensor, padding: Int) -> Tensor {
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

    /// Two bands of tile rows, one spanning both batch items (2 × 100 × 351 tiles of 16 × (5 + 11)
    /// floats: 18 M, over the 16 M budget); two blocks of output channels (16 × 510 × 520
    /// transformed weights: 4.2 M floats, over the 4 M budget).
    @Test("a 3×3 conv2d through Winograd agrees with the definition over several bands and output blocks",
          arguments: [[2, 5, 11, 200, 701], [1, 520, 510, 16, 17]])
    func winogradBands(shape: [Int]) {
        let (batch, channels, outputs, height, width) = (shape[0], shape[1], shape[2], shape[3], shape[4])
        var random = TorchRandomSource(seed: 11)
        let x = random.normal(shape: [batch, channels, height, width])
        let w = random.normal(shape: [outputs, channels, 3, 3]) * (0.5 / Float(channels).squareRoot())
        let b = random.normal(shape: [outputs])
        let actual = Convolution.conv2d(x, weight: w, bias: b, padding: 1, strategy: .winograd)
        let discrepancy = compare(actual, definition2d(x, w, b, padding: 1))
        #expect(discrepancy.isWithin(.exact), "\(discrepancy)")
    }
}
