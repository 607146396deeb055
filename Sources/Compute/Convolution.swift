/// Convolutions as PyTorch defines them (cross-correlation, zero padding, `groups = 1`), lowered
/// to one OpenBLAS GEMM per batch item through an im2col buffer (a 1×1, stride-1, unpadded
/// convolution is a GEMM on the input itself), or, when asked for, by Winograd's algorithm.
public enum Convolution {
    /// How `conv2d` evaluates a 3×3, stride-1 convolution.
    public enum Strategy: Sendable {
        /// im2col and GEMM: the sums of PyTorch's direct convolution, to float32 rounding.
        case direct
        /// Winograd F(2×2, 3×3) (``WinogradConvolution``) where it applies: 2.25× fewer
        /// multiplies, with a rounding error a few times the direct one. Networks that amplify
        /// rounding error (a VAE decoder) should stay direct; the U-Net, where the time goes,
        /// uses this and stays within nmse 1e-12 of diffusers.
        case winograd
    }

    /// Largest im2col buffer, in floats (64 MB).
    static let columnBudget = 16 << 20

    /// `torch.nn.functional.conv2d`.
    ///
    /// - Parameters:
    ///   - input: `[N, C, H, W]`.
    ///   - weight: `[O, C, kh, kw]`.
    ///   - bias: `[O]`, optional.
    ///   - strategy: whether a 3×3, stride-1 kernel may go through Winograd's algorithm.
    /// - Returns: `[N, O, H′, W′]` with `H′ = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1` (likewise W′).
    /// - Complexity: `N·O·C·kh·kw·H′·W′` multiply-adds in GEMM (4/9 of that through Winograd);
    ///   im2col memory `C·kh·kw·H′·W′` floats.
    public static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil,
                              stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                              strategy: Strategy = .direct) -> Tensor {
        precondition(input.rank == 4 && weight.rank == 4 && input.shape[1] == weight.shape[1],
                     "conv2d: input \(input.shape) does not match weight \(weight.shape)")
        let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (outputs, kernelHeight, kernelWidth) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let outHeight = (height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1
        let outWidth = (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1
        precondition(outHeight > 0 && outWidth > 0, "conv2d: output would be empty for \(input.shape)")
        let plane = outHeight * outWidth, patch = channels * kernelHeight * kernelWidth
        if strategy == .winograd, WinogradConvolution.applies(kernel: (kernelHeight, kernelWidth), stride: stride, dilation: dilation,
                                       positions: batch * plane) {
            return WinogradConvolution.conv2d(input, weight: weight, bias: bias, padding: padding,
                                              output: (outHeight, outWidth))
        }
        let direct = kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0
        // im2col in bands of output rows, so the column buffer stays under `columnBudget` floats
        // (a 3×3 convolution of the VAE decoder's 128 × 256 × 1024 activations would need 1.2 GB at once).
        let bandRows = direct ? outHeight : Swift.max(1, Swift.min(outHeight, columnBudget / Swift.max(1, patch * outWidth)))
        if batch > 1 && plane < batchedPlaneLimit && patch * batch * plane <= columnBudget {
            return batchedConv2d(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                                 output: (outHeight, outWidth))
        }
        var output = [Float](repeating: 0, count: batch * outputs * plane)
        input.scalars.withUnsafeBufferPointer { x in
            weight.scalars.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    Workspace.shared.withScratch(count: direct ? 0 : patch * bandRows * outWidth) { cols in
                        for item in 0..<batch {
                            let image = UnsafeBufferPointer(rebasing: x[item * channels * height * width..<(item + 1) * channels * height * width])
                            let result = UnsafeMutableBufferPointer(rebasing: y[item * outputs * plane..<(item + 1) * outputs * plane])
                            if direct {
                                // [O, C] · [C, H·W] -> [O, H·W]
                                BLAS.sgemm(m: outputs, n: plane, k: patch, a: w, lda: patch, b: image, ldb: plane,
                                           c: result, ldc: plane)
                                continue
                            }
                            var firstRow = 0
                            while firstRow < outHeight {
                                let rows = Swift.min(bandRows, outHeight - firstRow), columns = rows * outWidth
                                let band = UnsafeMutableBufferPointer(rebasing: cols[0..<patch * columns])
                                Im2Col.image2d(image, channels: channels, height: height, width: width,
                                               kernel: (kernelHeight, kernelWidth), stride: stride, padding: padding,
                                               dilation: dilation, outputRows: firstRow..<firstRow + rows, outputWidth: outWidth,
                                               into: band)
                                // [O, C·kh·kw] · [C·kh·kw, rows·W′] -> columns of [O, H′·W′]
                                BLAS.sgemm(m: outputs, n: columns, k: patch, a: w, lda: patch,
                                           b: UnsafeBufferPointer(band), ldb: columns,
                                           c: UnsafeMutableBufferPointer(rebasing: result[(firstRow * outWidth)...]), ldc: plane)
                                firstRow += rows
                            }
                        }
                    }
                }
            }
        }
        var result = Tensor(shape: [batch, outputs, outHeight, outWidth], scalars: output)
        if let bias { result.addChannelBias(bias) }
        return result
    }

    /// Output planes smaller than this are convolved for the whole batch in one GEMM.
    static let batchedPlaneLimit = 1024

    /// The convolution of every batch item in one GEMM, for small planes (the U-Net's lower
    /// levels: 4 × 16 positions against 11 520-deep patches), where per-item GEMMs would be thin:
    /// columns `[C·kh·kw, B·H′·W′]`, product `[O, B·H′·W′]`, then scattered to `[B, O, H′, W′]`.
    private static func batchedConv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int,
                                      dilation: Int, output size: (height: Int, width: Int)) -> Tensor {
        let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (outputs, kernelHeight, kernelWidth) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let plane = size.height * size.width, patch = channels * kernelHeight * kernelWidth, span = batch * plane
        var output = [Float](repeating: 0, count: batch * outputs * plane)
        input.scalars.withUnsafeBufferPointer { x in
            weight.scalars.withUnsafeBufferPointer { w in
                Workspace.shared.withScratch(count: patch * span) { cols in
                    Workspace.shared.withScratch(count: outputs * span) { product in
                        for item in 0..<batch {
                            Im2Col.image2d(UnsafeBufferPointer(rebasing: x[item * channels * height * width..<(item + 1) * channels * height * width]),
                                           channels: channels, height: height, width: width,
                                           kernel: (kernelHeight, kernelWidth), stride: stride, padding: padding,
                                           dilation: dilation, outputRows: 0..<size.height, outputWidth: size.width,
                                           into: cols, rowStride: span, columnOffset: item * plane)
                        }
                        // [O, C·kh·kw] · [C·kh·kw, B·H′·W′] -> [O, B·H′·W′]
                        BLAS.sgemm(m: outputs, n: span, k: patch, a: w, lda: patch, b: UnsafeBufferPointer(cols), ldb: span,
                                   c: product, ldc: span)
                        output.withUnsafeMutableBufferPointer { y in
                            // [O, B, H′·W′] -> [B, O, H′·W′]
                            for channel in 0..<outputs {
                                for item in 0..<batch {
                                    let from = channel * span + item * plane, to = (item * outputs + channel) * plane
                                    for index in 0..<plane { y[to + index] = product[from + index] }
                                }
                            }
                        }
                    }
                }
            }
        }
        var result = Tensor(shape: [batch, outputs, size.height, size.width], scalars: output)
        if let bias { result.addChannelBias(bias) }
        return result
    }

    /// `torch.nn.functional.conv1d`.
    ///
    /// - Parameters:
    ///   - input: `[N, C, L]`.
    ///   - weight: `[O, C, k]`.
    ///   - bias: `[O]`, optional.
    /// - Returns: `[N, O, L′]`, `L′ = ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1`.
    public static func conv1d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil,
                              stride: Int = 1, padding: Int = 0, dilation: Int = 1) -> Tensor {
        precondition(input.rank == 3 && weight.rank == 3, "conv1d: expected [N, C, L] and [O, C, k]")
        // A 1-D convolution is a 2-D one on a height-1 image with a 1×k kernel, except that
        // padding applies to the length only.
        precondition(input.shape[1] == weight.shape[1], "conv1d: input \(input.shape) does not match weight \(weight.shape)")
        let (batch, channels, length) = (input.shape[0], input.shape[1], input.shape[2])
        let (outputs, kernel) = (weight.shape[0], weight.shape[2])
        let outLength = (length + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
        precondition(outLength > 0, "conv1d: output would be empty for \(input.shape)")
        let patch = channels * kernel
        let direct = kernel == 1 && stride == 1 && padding == 0
        // im2col in bands of output positions, so the column buffer stays under `columnBudget`
        // floats (the last HiFi-GAN stage would need 225 MB at once for 10 s of audio).
        let bandLength = direct ? outLength : Swift.max(1, Swift.min(outLength, columnBudget / Swift.max(1, patch)))
        var output = [Float](repeating: 0, count: batch * outputs * outLength)
        input.scalars.withUnsafeBufferPointer { x in
            weight.scalars.withUnsafeBufferPointer { w in
                output.withUnsafeMutableBufferPointer { y in
                    Workspace.shared.withScratch(count: direct ? 0 : patch * bandLength) { cols in
                        for item in 0..<batch {
                            let signal = UnsafeBufferPointer(rebasing: x[item * channels * length..<(item + 1) * channels * length])
                            let result = UnsafeMutableBufferPointer(rebasing: y[item * outputs * outLength..<(item + 1) * outputs * outLength])
                            if direct {
                                // [O, C] · [C, L] -> [O, L]
                                BLAS.sgemm(m: outputs, n: outLength, k: patch, a: w, lda: patch, b: signal, ldb: outLength,
                                           c: result, ldc: outLength)
                                continue
                            }
                            var first = 0
                            while first < outLength {
                                let count = Swift.min(bandLength, outLength - first)
                                let band = UnsafeMutableBufferPointer(rebasing: cols[0..<patch * count])
                                Im2Col.signal1d(signal, channels: channels, length: length, kernel: kernel, stride: stride,
                                                padding: padding, dilation: dilation, outputRange: first..<first + count,
                                                into: band)
                                // [O, C·k] · [C·k, count] -> columns first..<first + count of [O, L′]
                                BLAS.sgemm(m: outputs, n: count, k: patch, a: w, lda: patch, b: UnsafeBufferPointer(band),
                                           ldb: count, c: UnsafeMutableBufferPointer(rebasing: result[first...]), ldc: outLength)
                                first += count
                            }
                        }
                    }
                }
            }
        }
        var result = Tensor(shape: [batch, outputs, outLength], scalars: output)
        if let bias { result.addChannelBias(bias) }
        return result
    }

    /// `torch.nn.functional.conv_transpose1d` (the HiFi-GAN upsampler).
    ///
    /// Computed as one GEMM `Wᵀ · x` into per-tap columns `[O·k, L]`, then scattered (col2im)
    /// to positions `l·s − p + j`.
    /// - Parameters:
    ///   - input: `[N, C, L]`.
    ///   - weight: `[C, O, k]` (PyTorch's transposed-convolution layout).
    ///   - bias: `[O]`, optional.
    /// - Returns: `[N, O, (L − 1)·s − 2p + k + outputPadding]`.
    public static func convTranspose1d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil,
                                       stride: Int = 1, padding: Int = 0, outputPadding: Int = 0) -> Tensor {
        precondition(input.rank == 3 && weight.rank == 3 && input.shape[1] == weight.shape[0],
                     "convTranspose1d: input \(input.shape) does not match weight \(weight.shape)")
        precondition(outputPadding < stride, "convTranspose1d: output padding must be smaller than the stride")
        let (batch, channels, length) = (input.shape[0], input.shape[1], input.shape[2])
        let (outputs, kernel) = (weight.shape[1], weight.shape[2])
        let outLength = (length - 1) * stride - 2 * padding + kernel + outputPadding
        precondition(outLength > 0, "convTranspose1d: output would be empty")
        var output = [Float](repeating: 0, count: batch * outputs * outLength)
        input.scalars.withUnsafeBufferPointer { x in
            weight.scalars.withUnsafeBufferPointer { w in
                Workspace.shared.withScratch(count: outputs * kernel * length) { cols in
                    for item in 0..<batch {
                        let signal = UnsafeBufferPointer(rebasing: x[item * channels * length..<(item + 1) * channels * length])
                        // [C, O·k]ᵀ · [C, L] -> [O·k, L]
                        BLAS.sgemm(transposeA: true, m: outputs * kernel, n: length, k: channels, a: w, lda: outputs * kernel,
                                   b: signal, ldb: length, c: cols, ldc: length)
                        output.withUnsafeMutableBufferPointer { y in
                            let base = item * outputs * outLength
                            for channel in 0..<outputs {
                                for tap in 0..<kernel {
                                    let row = (channel * kernel + tap) * length
                                    for position in 0..<length {
                                        let target = position * stride - padding + tap
                                        if target >= 0 && target < outLength {
                                            y[base + channel * outLength + target] += cols[row + position]
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        var result = Tensor(shape: [batch, outputs, outLength], scalars: output)
        if let bias { result.addChannelBias(bias) }
        return result
    }
}

extension Tensor {
    /// Adds `bias[c]` to every element of channel `c` of an `[N, C, …]` tensor.
    mutating func addChannelBias(_ bias: Tensor) {
        precondition(rank >= 2 && bias.shape == [shape[1]], "bias \(bias.shape) does not match channels of \(shape)")
        let channels = shape[1], inner = shape[2...].reduce(1, *), blocks = count / Swift.max(1, inner)
        scalars.withUnsafeMutableBufferPointer { values in
            for block in 0..<blocks {
                let value = bias.scalars[block % channels]
                for index in block * inner..<(block + 1) * inner { values[index] += value }
            }
        }
    }
}
