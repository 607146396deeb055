import Compute
import Testing
import TestSupport

/// `conv1d` unfolds long signals in bands of output positions (64 MB of scratch at most); the
/// fixtures of compute_fixtures.py are all single-band, so these cases, large enough for two
/// bands, are checked against the definition evaluated in double precision (Winograd's bands:
/// `WinogradConvolutionTests`).
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
}
