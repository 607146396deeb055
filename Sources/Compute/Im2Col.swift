/// Unfolds images and signals into patch columns so that a convolution becomes one GEMM.
enum Im2Col {
    /// `columns[(c·kh + i)·kw + j, offset + (y − y₀)·W′ + x] = image[c, y·s − p + i·d, x·s − p + j·d]`
    /// (0 outside) for the output rows `y ∈ outputRows`; column rows are `rowStride` apart
    /// (default: exactly the band, `rows · W′`).
    static func image2d(_ image: UnsafeBufferPointer<Float>, channels: Int, height: Int, width: Int,
                        kernel: (Int, Int), stride: Int, padding: Int, dilation: Int, outputRows: Range<Int>,
                        outputWidth outWidth: Int, into columns: UnsafeMutableBufferPointer<Float>,
                        rowStride: Int? = nil, columnOffset: Int = 0) {
        let (kernelHeight, kernelWidth) = kernel
        let plane = rowStride ?? outputRows.count * outWidth
        ComputeThreads.parallelFor(channels) { channel in
            let source = channel * height * width
            for i in 0..<kernelHeight {
                for j in 0..<kernelWidth {
                    let row = ((channel * kernelHeight + i) * kernelWidth + j) * plane + columnOffset
                    for y in outputRows {
                        let sourceY = y * stride - padding + i * dilation
                        let destination = row + (y - outputRows.lowerBound) * outWidth
                        guard sourceY >= 0 && sourceY < height else {
                            for x in 0..<outWidth { columns[destination + x] = 0 }
                            continue
                        }
                        let sourceRow = source + sourceY * width
                        let offset = j * dilation - padding
                        if stride == 1 {
                            // A contiguous run: zeros, a copy of the row, zeros.
                            let first = Swift.min(Swift.max(-offset, 0), outWidth)
                            let last = Swift.min(Swift.max(width - offset, first), outWidth)
                            for x in 0..<first { columns[destination + x] = 0 }
                            for x in first..<last { columns[destination + x] = image[sourceRow + x + offset] }
                            for x in last..<outWidth { columns[destination + x] = 0 }
                        } else {
                            for x in 0..<outWidth {
                                let sourceX = x * stride + offset
                                columns[destination + x] = sourceX >= 0 && sourceX < width ? image[sourceRow + sourceX] : 0
                            }
                        }
                    }
                }
            }
        }
    }

    /// `columns[c·k + j, l − l₀] = signal[c, l·s − p + j·d]` (0 outside) for the output
    /// positions `l ∈ outputRange` (`l₀` its lower bound).
    static func signal1d(_ signal: UnsafeBufferPointer<Float>, channels: Int, length: Int, kernel: Int, stride: Int,
                         padding: Int, dilation: Int, outputRange: Range<Int>,
                         into columns: UnsafeMutableBufferPointer<Float>) {
        let (start, end) = (outputRange.lowerBound, outputRange.upperBound), width = outputRange.count
        ComputeThreads.parallelFor(channels) { channel in
            let source = channel * length
            for j in 0..<kernel {
                let row = (channel * kernel + j) * width - start
                let offset = j * dilation - padding
                if stride == 1 {
                    // A contiguous run: zeros, a copy of the signal, zeros.
                    let first = Swift.min(Swift.max(-offset, start), end)
                    let last = Swift.min(Swift.max(length - offset, first), end)
                    for position in start..<first { columns[row + position] = 0 }
                    for position in first..<last { columns[row + position] = signal[source + position + offset] }
                    for position in last..<end { columns[row + position] = 0 }
                } else {
                    for position in outputRange {
                        let index = position * stride + offset
                        columns[row + position] = index >= 0 && index < length ? signal[source + index] : 0
                    }
                }
            }
        }
    }
}
