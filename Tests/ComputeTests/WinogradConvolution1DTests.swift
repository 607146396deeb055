import Compute
import Testing
import TestSupport

/// `conv1d(…, winograd: filter)`: Winograd F(4, 3) on three-tap pieces of the kernel (`ck_winograd1d`),
/// the HiFi-GAN vocoder's residual-block convolutions. The cases cover kernels of 3, 7 and 11 taps
/// (one, three and four pieces, the last two padded with zero taps) and 4 and 5 (odd pieces), dilations 1, 3
/// and 5 (tiles of interleaved combs), lengths that end mid-group and groups that fill no whole
/// panel, several blocks of depth (pieces × channels > 256), output channels that fill no register
/// tile, leaky ReLU on the input, bias and residual, batch 2 and the cut into one piece per thread
/// along groups or along output channels, with the filter packed once for the kernels or on every
/// call, on every vector instruction set this CPU supports (the AVX2 kernels on an AVX-512 machine
/// too). Each is held to the definition in double precision,
/// with the bound of the 2-D Winograd tests; the direct `conv1d` of the same case is held to it too,
/// and the Winograd error must stay within a small multiple of the direct one.
@Suite("1-D convolutions by Winograd F(4, 3)")
struct WinogradConvolution1DTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let channels: Int, outputs: Int, length: Int, kernel: Int, dilation: Int, slope: Float?, residual: Bool
        var padding: Int { dilation * (kernel - 1) / 2 }
        var outLength: Int { length + 2 * padding - dilation * (kernel - 1) }
        var testDescription: String {
            "\(channels)→\(outputs), L \(length), k \(kernel), d \(dilation)" + (slope.map { ", leaky \($0)" } ?? "")
                + (residual ? ", + residual" : "")
        }
    }

    static let cases = [
        Case(channels: 32, outputs: 32, length: 4001, kernel: 3, dilation: 1, slope: 0.1, residual: true),
        Case(channels: 40, outputs: 37, length: 1503, kernel: 11, dilation: 5, slope: 0.1, residual: true),
        Case(channels: 70, outputs: 26, length: 999, kernel: 7, dilation: 3, slope: 0.01, residual: false),
        Case(channels: 90, outputs: 13, length: 1001, kernel: 11, dilation: 1, slope: nil, residual: true),
        Case(channels: 17, outputs: 50, length: 1234, kernel: 4, dilation: 2, slope: 0.1, residual: false),
        Case(channels: 23, outputs: 9, length: 777, kernel: 5, dilation: 3, slope: nil, residual: false),
        // More output channels than groups of positions: the cut between threads runs along channels.
        Case(channels: 64, outputs: 200, length: 150, kernel: 7, dilation: 5, slope: 0.1, residual: true),
        // Shorter than one group and one panel.
        Case(channels: 8, outputs: 5, length: 9, kernel: 3, dilation: 3, slope: 0.1, residual: true),
    ]

    static let instructionSets = InstructionSet.allCases.filter { $0 != .baseline && $0 <= InstructionSet.supported }

    /// `r[n, o, q] + b[o] + Σ_{c, j} w[o, c, j] · f(x[n, c, q − p + j·d])` (0 outside), in Double.
    private func definition(_ x: Tensor, _ w: Tensor, _ b: Tensor, _ r: Tensor?, _ shape: Case) -> [Float] {
        var y = [Float](repeating: 0, count: 2 * shape.outputs * shape.outLength)
        for n in 0..<2 {
            for o in 0..<shape.outputs {
                for q in 0..<shape.outLength {
                    var sum = Double(b.scalars[o])
                    for c in 0..<shape.channels {
                        for j in 0..<shape.kernel {
                            let at = q - shape.padding + j * shape.dilation
                            guard (0..<shape.length).contains(at) else { continue }
                            let value = x.scalars[(n * shape.channels + c) * shape.length + at]
                            let read = shape.slope.map { value >= 0 ? value : value * $0 } ?? value
                            sum += Double(w.scalars[(o * shape.channels + c) * shape.kernel + j]) * Double(read)
                        }
                    }
                    let index = (n * shape.outputs + o) * shape.outLength + q
                    y[index] = Float(sum + Double(r?.scalars[index] ?? 0))
                }
            }
        }
        return y
    }

    @Test("agrees with the definition, within a few times the direct convolution's rounding",
          arguments: cases, instructionSets)
    func matchesDefinition(shape: Case, instructionSet: InstructionSet) {
        var random = TorchRandomSource(seed: 11)
        let x = random.normal(shape: [2, shape.channels, shape.length])
        let w = random.normal(shape: [shape.outputs, shape.channels, shape.kernel]) * (1 / Float(shape.channels * shape.kernel).squareRoot())
        let b = random.normal(shape: [shape.outputs])
        let r = shape.residual ? random.normal(shape: [2, shape.outputs, shape.outLength]) : nil
        func convolve(_ filter: Convolution.WinogradFilter1D?) -> Tensor {
            Convolution.conv1d(x, weight: w, bias: b, padding: shape.padding, dilation: shape.dilation, inputSlope: shape.slope,
                               adding: r, winograd: filter, instructionSet: instructionSet)
        }
        let expected = definition(x, w, b, r, shape)
        let fast = convolve(Convolution.WinogradFilter1D(weight: w, instructionSet: instructionSet))
        let direct = convolve(nil)
        #expect(fast.shape == [2, shape.outputs, shape.outLength])
        // A filter packed for no kernels is packed on every call, into the same products.
        #expect(convolve(Convolution.WinogradFilter1D(weight: w, instructionSet: .baseline)).scalars == fast.scalars)
        let discrepancy = compare(fast.scalars, expected), directDiscrepancy = compare(direct.scalars, expected)
        #expect(discrepancy.isWithin(Tolerance(nmse: 1e-10, maxAbs: 1e-4)), "\(discrepancy)")
        #expect(discrepancy.nmse <= 20 * Swift.max(directDiscrepancy.nmse, 1e-15),
                "Winograd \(discrepancy) against direct \(directDiscrepancy)")
    }
}
