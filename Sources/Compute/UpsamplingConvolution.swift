/// Nearest-neighbour ×2 upsampling followed by a 3×3, stride-1, padding-1 convolution (diffusers'
/// `Upsample2D`), computed on the input's own grid.
///
/// Every output sample of one parity — even or odd row, even or odd column — sees a 2×2
/// neighbourhood of the input, because the upsampled image repeats each input sample twice in each
/// direction: an even output row reads input rows i − 1 (kernel row 0) and i (kernel rows 1 and 2),
/// an odd one rows i (kernel rows 0 and 1) and i + 1 (kernel row 2), and likewise for columns. So
/// the four parities are four 2×2 convolutions of the input whose taps are sums of the 3×3
/// kernel's, run one after the other and interleaved: 16 multiply-adds per output position and
/// channel pair instead of 36, and the upsampled image and its columns are never made (only one
/// parity's samples at a time, a quarter of the output). The sums are the direct convolution's
/// regrouped, so the rounding is of the direct kind (not Winograd's transforms), which the VAE
/// decoder's rounding amplification needs.
public struct UpsamplingConvolution: Sendable {
    /// The 2×2 kernels `[O, C, 2, 2]` of the four parities, `2·rowParity + columnParity`.
    let phaseWeights: [Tensor]
    let bias: Tensor?

    /// Which kernel rows (or columns) of the 3×3 kernel fall on input offset 0 and 1 of the 2×2
    /// neighbourhood, for an even (0) and an odd (1) output row (or column).
    private static let taps: [[Range<Int>]] = [[0..<1, 1..<3], [0..<2, 2..<3]]

    /// - Parameters:
    ///   - weight: the 3×3 convolution's `[O, C, 3, 3]`.
    ///   - bias: its `[O]`, optional.
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3,
                     "UpsamplingConvolution: expected a [O, C, 3, 3] kernel, got \(weight.shape)")
        let pairs = weight.shape[0] * weight.shape[1]
        // Built when a model loads (the U-Net's 1280-channel upsamplers: 1.6 M kernels), so in
        // parallel and over raw buffers; each sum adds its taps in the same order either way.
        phaseWeights = (0..<4).map { phase in
            let (rowTaps, columnTaps) = (Self.taps[phase / 2], Self.taps[phase % 2])
            let kernel = [Float](unsafeUninitializedCapacity: pairs * 4) { kernel, initialized in
                weight.scalars.withUnsafeBufferPointer { g in
                    ComputeThreads.parallelRanges(pairs, minimumPerRange: 1 << 14) { range in
                        for pair in range {
                            for row in 0..<2 {
                                for column in 0..<2 {
                                    var sum: Float = 0
                                    for kernelRow in rowTaps[row] {
                                        for kernelColumn in columnTaps[column] { sum += g[pair * 9 + kernelRow * 3 + kernelColumn] }
                                    }
                                    kernel[pair * 4 + row * 2 + column] = sum
                                }
                            }
                        }
                    }
                }
                initialized = pairs * 4
            }
            return Tensor(shape: [weight.shape[0], weight.shape[1], 2, 2], scalars: kernel)
        }
        self.bias = bias
    }

    /// `[N, C, H, W] → [N, O, 2H, 2W]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (batch, outputs, height, width) = (x.shape[0], phaseWeights[0].shape[0], x.shape[2], x.shape[3])
        let (outHeight, outWidth, planes) = (2 * height, 2 * width, batch * outputs)
        // Every output sample is written by exactly one parity, so the output is not zeroed first
        // (a pass over the decoder's largest activation).
        let output = [Float](unsafeUninitializedCapacity: planes * outHeight * outWidth) { y, initialized in
            for (phase, weight) in phaseWeights.enumerated() {
                let (rowParity, columnParity) = (phase / 2, phase % 2)
                // A 2×2 convolution over the input padded by 1: its output (i, j) reads input rows
                // i − 1 and i, so this parity's sample (i, j) is its (i + rowParity, j + columnParity).
                let samples = Convolution.conv2d(x, weight: weight, bias: bias, padding: 1)   // [N, O, H + 1, W + 1]
                let (phaseHeight, phaseWidth) = (height + 1, width + 1)
                samples.scalars.withUnsafeBufferPointer { z in
                    // Raw pointers: a strided scatter over the whole output, bounds-checked per sample it
                    // would cost as much as the 2×2 convolution it follows.
                    let (from, to) = (z.baseAddress!, y.baseAddress!)
                    ComputeThreads.parallelFor(planes) { plane in
                        for row in 0..<height {
                            let source = from + (plane * phaseHeight + row + rowParity) * phaseWidth + columnParity
                            let destination = to + (plane * outHeight + 2 * row + rowParity) * outWidth + columnParity
                            for column in 0..<width { destination[2 * column] = source[column] }
                        }
                    }
                }
            }
            initialized = planes * outHeight * outWidth
        }
        return Tensor(shape: [batch, outputs, outHeight, outWidth], scalars: output)
    }
}
