import CKernels

/// Convolutions as PyTorch defines them (cross-correlation, zero padding, `groups = 1`), lowered
/// to matrix products (``BLAS``): 2-D ones through an im2col buffer, one GEMM per batch item (a
/// 1×1, stride-1, unpadded convolution is a GEMM on the input itself) or, when asked for, by
/// Winograd's algorithm; 1-D ones by a product that packs its columns from the signal itself
/// (`Convolution+1D.swift`).
public enum Convolution {
    /// How `conv2d` evaluates a 3×3, stride-1 convolution.
    public enum Strategy: Sendable {
        /// im2col and GEMM: the sums of PyTorch's direct convolution, to float32 rounding.
        case direct
        /// Winograd F(2×2, 3×3) (``WinogradConvolution``) where it applies: 2.25× fewer
        /// multiplies, with a rounding error a few times the direct one. Networks that amplify
        /// rounding error (a VAE decoder) should stay direct.
        case winograd
        /// Winograd F(4×4, 3×3) where it applies and the plane has enough tiles of 4 × 4
        /// (``WinogradConvolution/minimumFourByFourTiles``), F(2×2) where it has fewer: 4× fewer
        /// multiplies than direct, with about six times F(2×2)'s rounding error. The U-Net, where
        /// the time goes, uses this and stays within nmse 1e-12 of diffusers.
        case winograd4x4

        /// The Winograd algorithm this strategy asks for, if any.
        var winogradTile: WinogradConvolution.Tile? {
            switch self {
            case .direct: nil
            case .winograd: .twoByTwo
            case .winograd4x4: .fourByFour
            }
        }
    }

    /// Largest im2col buffer, in floats (64 MB).
    static let columnBudget = 16 << 20

    /// `torch.nn.functional.conv2d`, optionally adding a residual to its output
    /// (`conv2d(x, …) + r` without making the convolution's output a tensor of its own).
    ///
    /// With the AVX2 or AVX-512 kernels (``InstructionSet``), a direct convolution packs the
    /// columns of its product straight from the image (`ck_conv`) and adds the bias and the
    /// residual as it stores each tile; the OpenBLAS baseline, and batches of small planes (one
    /// GEMM for the batch), go through im2col columns. These sum in the order of one GEMM over
    /// im2col columns: the same numbers, to the bit on the same instruction set.
    ///
    /// - Parameters:
    ///   - input: `[N, C, H, W]`.
    ///   - weight: `[O, C, kh, kw]`.
    ///   - bias: `[O]`, optional.
    ///   - strategy: whether a 3×3, stride-1 kernel may go through Winograd's algorithm.
    ///   - residual: `[N, O, H′, W′]`, optional, added after the bias.
    ///   - instructionSet: the kernels of the products (tests pass each one the CPU supports).
    /// - Returns: `[N, O, H′, W′]` with `H′ = ⌊(H + 2p − d(kh − 1) − 1)/s⌋ + 1` (likewise W′).
    /// - Complexity: `N·O·C·kh·kw·H′·W′` multiply-adds in GEMM (4/9 of that through Winograd F(2×2), 1/4 through F(4×4));
    ///   through im2col, column memory `C·kh·kw·H′·W′` floats (in bands of at most 64 MB).
    public static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil,
                              stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                              strategy: Strategy = .direct, adding residual: Tensor? = nil,
                              instructionSet: InstructionSet = .active) -> Tensor {
        precondition(input.rank == 4 && weight.rank == 4 && input.shape[1] == weight.shape[1],
                     "conv2d: input \(input.shape) does not match weight \(weight.shape)")
        precondition(bias == nil || bias?.shape == [weight.shape[0]], "conv2d: bias does not match weight \(weight.shape)")
        let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let (outputs, kernelHeight, kernelWidth) = (weight.shape[0], weight.shape[2], weight.shape[3])
        let outHeight = (height + 2 * padding - dilation * (kernelHeight - 1) - 1) / stride + 1
        let outWidth = (width + 2 * padding - dilation * (kernelWidth - 1) - 1) / stride + 1
        precondition(outHeight > 0 && outWidth > 0, "conv2d: output would be empty for \(input.shape)")
        precondition(residual == nil || residual?.shape == [batch, outputs, outHeight, outWidth],
                     "conv2d: residual \(residual?.shape ?? []) does not match the output [\(batch), \(outputs), \(outHeight), \(outWidth)]")
        let plane = outHeight * outWidth, patch = channels * kernelHeight * kernelWidth
        var result: Tensor
        // The algorithm is chosen per batch item, so that an item's output does not depend on the
        // batch it is computed in (a guided step shares rows across halves of different sizes).
        if let tile = strategy.winogradTile,
           WinogradConvolution.applies(kernel: (kernelHeight, kernelWidth), stride: stride, dilation: dilation, positions: plane) {
            result = WinogradConvolution.conv2d(input, weight: weight, bias: bias, padding: padding, output: (outHeight, outWidth),
                                                tile: tile, instructionSet: instructionSet)
        } else if batch > 1 && plane < batchedPlaneLimit && patch * batch * plane <= columnBudget {
            result = batchedConv2d(input, weight: weight, bias: bias, stride: stride, padding: padding, dilation: dilation,
                                   output: (outHeight, outWidth), instructionSet: instructionSet)
        } else {
            let shape = ck_conv_shape(channels: channels, height: height, width: width, outputs: outputs,
                                      kernel_height: kernelHeight, kernel_width: kernelWidth, stride: stride,
                                      padding_height: padding, padding_width: padding, dilation: dilation,
                                      out_height: outHeight, out_width: outWidth, leaky: 0, slope: 0)
            if let output = packedConvolution(input, weight: weight, bias: bias, residual: residual, shape: shape, batch: batch,
                                              instructionSet: instructionSet) {
                return Tensor(shape: [batch, outputs, outHeight, outWidth], scalars: output)
            }
            result = unfoldedConv2d(input, weight: weight, shape: shape, batch: batch, instructionSet: instructionSet)
            if let bias { result.addChannelBias(bias) }
        }
        if let residual { result.add(residual) }
        return result
    }

    /// `conv2d` without bias through im2col columns in bands of output rows and `BLAS.sgemm`, one
    /// product per batch item.
    private static func unfoldedConv2d(_ input: Tensor, weight: Tensor, shape: ck_conv_shape, batch: Int,
                                       instructionSet: InstructionSet) -> Tensor {
        let (channels, height, width, outputs) = (shape.channels, shape.height, shape.width, shape.outputs)
        let (kernelHeight, kernelWidth, stride, padding) = (shape.kernel_height, shape.kernel_width, shape.stride, shape.padding_width)
        let (outHeight, outWidth, dilation) = (shape.out_height, shape.out_width, shape.dilation)
        let plane = outHeight * outWidth, patch = channels * kernelHeight * kernelWidth
        let direct = kernelHeight == 1 && kernelWidth == 1 && stride == 1 && padding == 0
        // im2col in bands of output rows, so the column buffer stays under `columnBudget` floats
        // (a 3×3 convolution of the VAE decoder's 128 × 256 × 1024 activations would need 1.2 GB at once).
        let bandRows = direct ? outHeight : Swift.max(1, Swift.min(outHeight, columnBudget / Swift.max(1, patch * outWidth)))
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
                                           c: result, ldc: plane, instructionSet: instructionSet)
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
                                           c: UnsafeMutableBufferPointer(rebasing: result[(firstRow * outWidth)...]), ldc: plane,
                                           instructionSet: instructionSet)
                                firstRow += rows
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [batch, outputs, outHeight, outWidth], scalars: output)
    }

    /// Output planes smaller than this are convolved for the whole batch in one GEMM.
    static let batchedPlaneLimit = 1024

    /// The convolution of every batch item in one GEMM, for small planes (the U-Net's lower
    /// levels: 4 × 16 positions against 11 520-deep patches), where per-item GEMMs would be thin:
    /// columns `[C·kh·kw, B·H′·W′]`, product `[O, B·H′·W′]`, then scattered to `[B, O, H′, W′]`.
    private static func batchedConv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, stride: Int, padding: Int,
                                      dilation: Int, output size: (height: Int, width: Int),
                                      instructionSet: InstructionSet) -> Tensor {
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
                                   c: product, ldc: span, instructionSet: instructionSet)
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
