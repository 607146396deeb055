/// Nearest-neighbour ×2 upsampling followed by a 3×3, stride-1, padding-1 convolution (diffusers'
/// `Upsample2D`), computed on the input's own grid.
///
/// Every output sample of one parity — even or odd row, even or odd column — sees a 2×2
/// neighbourhood of the input, because the upsampled image repeats each input sample twice in each
/// direction: an even output row reads input rows i − 1 (kernel row 0) and i (kernel rows 1 and 2),
/// an odd one rows i (kernel rows 0 and 1) and i + 1 (kernel row 2), and likewise for columns. So
/// the four parities are four 2×2 convolutions of the input whose taps are sums of the 3×3
/// kernel's, stacked into one convolution of 4·O output channels and interleaved: 16 multiply-adds
/// per output position and channel pair instead of 36, and neither the upsampled image nor its
/// columns are ever made. The sums are those of the direct convolution regrouped, so the rounding
/// is the direct convolution's kind (not Winograd's transforms), which the VAE decoder's rounding
/// amplification needs.
public struct UpsamplingConvolution: Sendable {
    /// The four parities' 2×2 kernels, `[4·O, C, 2, 2]`, parity `2·rowParity + columnParity` first.
    let phaseWeight: Tensor
    /// The bias repeated for each parity, `[4·O]`.
    let phaseBias: Tensor?
    let outputs: Int

    /// Which kernel rows (or columns) of the 3×3 kernel fall on input offset 0 and 1 of the 2×2
    /// neighbourhood, for an even (0) and an odd (1) output row (or column).
    private static let taps: [[[Int]]] = [[[0], [1, 2]], [[0, 1], [2]]]

    /// - Parameters:
    ///   - weight: the 3×3 convolution's `[O, C, 3, 3]`.
    ///   - bias: its `[O]`, optional.
    public init(weight: Tensor, bias: Tensor?) {
        precondition(weight.rank == 4 && weight.shape[2] == 3 && weight.shape[3] == 3,
                     "UpsamplingConvolution: expected a [O, C, 3, 3] kernel, got \(weight.shape)")
        let (outputs, channels) = (weight.shape[0], weight.shape[1])
        var stacked = [Float](repeating: 0, count: 4 * outputs * channels * 4)
        weight.scalars.withUnsafeBufferPointer { w in
            for rowParity in 0..<2 {
                for columnParity in 0..<2 {
                    let phase = 2 * rowParity + columnParity
                    for pair in 0..<outputs * channels {
                        for (row, kernelRows) in Self.taps[rowParity].enumerated() {
                            for (column, kernelColumns) in Self.taps[columnParity].enumerated() {
                                var sum: Float = 0
                                for kernelRow in kernelRows {
                                    for kernelColumn in kernelColumns { sum += w[pair * 9 + kernelRow * 3 + kernelColumn] }
                                }
                                stacked[(phase * outputs * channels + pair) * 4 + row * 2 + column] = sum
                            }
                        }
                    }
                }
            }
        }
        phaseWeight = Tensor(shape: [4 * outputs, channels, 2, 2], scalars: stacked)
        phaseBias = bias.map { bias in Tensor(shape: [4 * outputs], scalars: Array([[Float]](repeating: bias.scalars, count: 4).joined())) }
        self.outputs = outputs
    }

    /// `[N, C, H, W] → [N, O, 2H, 2W]`.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let (batch, height, width) = (x.shape[0], x.shape[2], x.shape[3])
        // One 2×2 convolution over the input padded by 1: its output (i, j) reads input rows i − 1
        // and i, so parity (a, b)'s sample (i, j) sits at (i + a, j + b) of its channel block.
        let phases = Convolution.conv2d(x, weight: phaseWeight, bias: phaseBias, padding: 1)   // [N, 4·O, H + 1, W + 1]
        let (phaseHeight, phaseWidth) = (height + 1, width + 1)
        let (outHeight, outWidth) = (2 * height, 2 * width)
        let planes = batch * outputs
        let output = [Float](unsafeUninitializedCapacity: planes * outHeight * outWidth) { y, initialized in
            phases.scalars.withUnsafeBufferPointer { z in
                ComputeThreads.parallelFor(planes) { plane in
                    let (item, channel) = (plane / outputs, plane % outputs)
                    for rowParity in 0..<2 {
                        for columnParity in 0..<2 {
                            let block = (item * 4 + 2 * rowParity + columnParity) * outputs + channel
                            let source = z.baseAddress! + block * phaseHeight * phaseWidth
                            for row in 0..<height {
                                let from = source + (row + rowParity) * phaseWidth + columnParity
                                let to = y.baseAddress! + (plane * outHeight + 2 * row + rowParity) * outWidth + columnParity
                                for column in 0..<width { to[2 * column] = from[column] }
                            }
                        }
                    }
                }
            }
            initialized = planes * outHeight * outWidth
        }
        return Tensor(shape: [batch, outputs, outHeight, outWidth], scalars: output)
    }
}
