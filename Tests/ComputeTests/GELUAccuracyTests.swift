import Compute
import Foundation
import Testing

/// GELU's vectorised erf (Abramowitz & Stegun 7.1.26, as PyTorch's CPU kernel evaluates it)
/// against the definition in double precision. The kernel parity fixtures compare whole tensors in
/// NMSE; this bounds every element, the tails of a row that is not a multiple of 8 included.
@Suite("GELU's erf")
struct GELUAccuracyTests {
    static func exact(_ x: Float) -> Double { 0.5 * Double(x) * (1 + Foundation.erf(Double(x) / 2.0.squareRoot())) }

    @Test("gelu(x) is within 2e-7·max(1, |x|) of the definition on [−12, 12] (the formula's 1.5e-7 in erf, halved, plus float rounding), every element of an odd-length tensor")
    func accuracy() {
        let xs = (0...24_001).map { Float($0 - 12_000) * 0.001 }
        let y = Tensor(shape: [xs.count], scalars: xs).gelu().scalars
        var worst = (x: Float(0), error: 0.0)
        for (x, value) in zip(xs, y) {
            let error = abs(Double(value) - Self.exact(x)) / max(1, Double(abs(x)))
            if error > worst.error { worst = (x, error) }
        }
        #expect(worst.error <= 2e-7, "largest error \(worst.error) at x = \(worst.x)")
    }

    @Test("zero, large magnitudes and NaN: gelu(0) = 0, gelu(x) = x far above 0, 0 far below, NaN stays NaN")
    func limits() {
        let y = Tensor(shape: [5], scalars: [0, 30, -30, .nan, 1e30]).gelu().scalars
        #expect(abs(y[0]) <= 1e-9)
        #expect(y[1] == 30 && y[2] == 0 && y[3].isNaN && y[4] == 1e30)
    }
}
