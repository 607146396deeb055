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

    /// `columns[c·k + j, l] = signal[c, l·s − p + j·d]` (0 outside).
    static func signal1d(_ signal: UnsafeBufferPointer<Float>, channels: Int, length: Int, kernel: Int, stride: Int,
                         padding: Int, dilation: Int, outputLength: Int, into columns: UnsafeMutableBufferPointer<Float>) {
        ComputeThreads.parallelFor(channels) { channel in
            for j in 0..<kernel {
                let row = (channel * kernel + j) * outputLength
                for position in 0..<outputLength {
                    let source = position * stride - padding + j * dilation
                    columns[row + position] = source >= 0 && source < length ? signal[channel * length + source] : 0
                }
            }
        }
    }
}
