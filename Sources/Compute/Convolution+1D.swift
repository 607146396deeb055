import CKernels

extension Convolution {
    /// The weight `[O, C, k]` of a 1-D convolution transformed once for Winograd F(4, 3) on three-tap
    /// pieces of its kernel (`ck_winograd1d_filter`): six matrices `[O, ⌈k/3⌉·C]`, computed in double
    /// and rounded once, and packed for one instruction set's micro-kernels.
    /// ``conv1d(_:weight:bias:stride:padding:dilation:inputSlope:adding:winograd:instructionSet:)``
    /// multiplies by them instead of by the weight.
    public struct WinogradFilter1D: Sendable {
        /// The shape of the weight it was made from.
        let weightShape: [Int]
        let scalars: [Float]
        /// `scalars` packed for ``packedFor`` (empty for the baseline).
        let packed: [Float]
        let packedFor: InstructionSet

        /// Transforms `weight` (`[O, C, k]`, k ≥ 1) and packs it for `instructionSet`.
        public init(weight: Tensor, instructionSet: InstructionSet = .active) {
            precondition(weight.rank == 3 && weight.shape.allSatisfy { $0 > 0 }, "WinogradFilter1D: expected [O, C, k], got \(weight.shape)")
            let shape = ck_conv_shape(channels: weight.shape[1], height: 1, width: 1, outputs: weight.shape[0], kernel_height: 1,
                                      kernel_width: weight.shape[2], stride: 1, padding_height: 0, padding_width: 0, dilation: 1,
                                      out_height: 1, out_width: 1, leaky: 0, slope: 0)
            weightShape = weight.shape
            packedFor = instructionSet
            let scalars = withUnsafePointer(to: shape) { shape in
                [Float](unsafeUninitializedCapacity: ck_winograd1d_filter_size(shape)) { filter, initialized in
                    weight.scalars.withUnsafeBufferPointer { ck_winograd1d_filter(shape, $0.baseAddress, filter.baseAddress) }
                    initialized = ck_winograd1d_filter_size(shape)
                }
            }
            self.scalars = scalars
            packed = withUnsafePointer(to: shape) { shape in
                guard let isa = instructionSet.kernel else { return [] }
                let count = ck_winograd1d_packed_size(isa, shape)
                return [Float](unsafeUninitializedCapacity: count) { packed, initialized in
                    _ = ck_winograd1d_pack(isa, shape, scalars, packed.baseAddress)
                    initialized = count
                }
            }
        }
    }

    /// `torch.nn.functional.conv1d`, optionally reading its input through leaky ReLU and adding a
    /// residual to its output: `conv1d(x.leakyReLU(slope: s), …) + r` without making either
    /// intermediate tensor (a HiFi-GAN residual unit's `x + conv(lrelu(x))`).
    ///
    /// With the AVX2 or AVX-512 kernels (``InstructionSet``) the columns of the product are packed
    /// straight from the signal, panel by panel (`ck_conv`); the bias and the residual are added
    /// as each tile is stored. The OpenBLAS baseline unfolds the signal into im2col columns in
    /// bands instead. Both sum in the order of one GEMM over im2col columns, so they give the same
    /// numbers as the separate operations, to the bit on the same instruction set.
    ///
    /// - Parameters:
    ///   - input: `[N, C, L]`.
    ///   - weight: `[O, C, k]`.
    ///   - bias: `[O]`, optional.
    ///   - inputSlope: when given, every input value `v` is read as `v ≥ 0 ? v : slope · v`.
    ///   - residual: `[N, O, L′]`, optional, added after the bias.
    ///   - winograd: `weight` transformed for Winograd F(4, 3) on three-tap pieces of the kernel; when
    ///     given, a stride-1 convolution of 3 or more taps goes through it with the AVX2 or AVX-512
    ///     kernels (`ck_winograd1d`): 1.5 products per output for every three taps instead of 3,
    ///     with a few times the direct sum's rounding.
    ///   - instructionSet: the kernels to use (tests pass each one the CPU supports).
    /// - Returns: `[N, O, L′]`, `L′ = ⌊(L + 2p − d(k − 1) − 1)/s⌋ + 1`.
    /// - Complexity: `N·O·C·k·L′` multiply-adds; the baseline also writes `C·k·L′` im2col floats
    ///   (in bands of at most 64 MB).
    public static func conv1d(_ input: Tensor, weight: Tensor, bias: Tensor? = nil,
                              stride: Int = 1, padding: Int = 0, dilation: Int = 1,
                              inputSlope: Float? = nil, adding residual: Tensor? = nil, winograd: WinogradFilter1D? = nil,
                              instructionSet: InstructionSet = .active) -> Tensor {
        precondition(input.rank == 3 && weight.rank == 3, "conv1d: expected [N, C, L] and [O, C, k]")
        precondition(input.shape[1] == weight.shape[1], "conv1d: input \(input.shape) does not match weight \(weight.shape)")
        precondition(bias == nil || bias?.shape == [weight.shape[0]], "conv1d: bias does not match weight \(weight.shape)")
        let (batch, length) = (input.shape[0], input.shape[2])
        let (outputs, kernel) = (weight.shape[0], weight.shape[2])
        let outLength = (length + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1
        precondition(outLength > 0, "conv1d: output would be empty for \(input.shape)")
        precondition(residual == nil || residual?.shape == [batch, outputs, outLength],
                     "conv1d: residual \(residual?.shape ?? []) does not match the output [\(batch), \(outputs), \(outLength)]")
        // A 1-D convolution is a 2-D one of a height-1 image with a 1×k kernel, padded along the length only.
        let shape = ck_conv_shape(channels: input.shape[1], height: 1, width: length, outputs: outputs, kernel_height: 1,
                                  kernel_width: kernel, stride: stride, padding_height: 0, padding_width: padding,
                                  dilation: dilation, out_height: 1, out_width: outLength,
                                  leaky: inputSlope == nil ? 0 : 1, slope: inputSlope ?? 0)
        precondition(winograd == nil || winograd?.weightShape == weight.shape, "conv1d: the Winograd filter is not this weight's")
        if let isa = instructionSet.kernel, let winograd, stride == 1 && kernel >= 3,
           let output = winogradConvolution1d(input, filter: winograd, bias: bias, residual: residual, shape: shape, batch: batch,
                                              isa: isa) {
            return Tensor(shape: [batch, outputs, outLength], scalars: output)
        }
        if let output = packedConvolution(input, weight: weight, bias: bias, residual: residual, shape: shape, batch: batch,
                                          instructionSet: instructionSet) {
            return Tensor(shape: [batch, outputs, outLength], scalars: output)
        }
        var result = unfoldedConv1d(inputSlope.map { input.leakyReLU(slope: $0) } ?? input, weight: weight,
                                    shape: shape, batch: batch, instructionSet: instructionSet)
        if let bias { result.addChannelBias(bias) }
        if let residual { result.add(residual) }
        return result
    }

    /// `conv1d` without bias through im2col columns in bands of output positions and `BLAS.sgemm`.
    private static func unfoldedConv1d(_ input: Tensor, weight: Tensor, shape: ck_conv_shape, batch: Int,
                                       instructionSet: InstructionSet) -> Tensor {
        let (channels, length, outputs, kernel) = (shape.channels, shape.width, shape.outputs, shape.kernel_width)
        let (stride, padding, dilation, outLength) = (shape.stride, shape.padding_width, shape.dilation, shape.out_width)
        let patch = channels * kernel
        let direct = kernel == 1 && stride == 1 && padding == 0
        // im2col in bands of output positions, so the column buffer stays under `columnBudget`
        // floats (the last HiFi-GAN stage would need 225 MB at once for 10 s of audio).
        let bandLength = direct ? outLength : Swift.max(1, Swift.min(outLength, columnBudget / Swift.max(1, patch)))
        let output = [Float](unsafeUninitializedCapacity: batch * outputs * outLength) { y, initialized in
            input.scalars.withUnsafeBufferPointer { x in
                weight.scalars.withUnsafeBufferPointer { w in
                    Workspace.shared.withScratch(count: direct ? 0 : patch * bandLength) { cols in
                        for item in 0..<batch {
                            let signal = UnsafeBufferPointer(rebasing: x[item * channels * length..<(item + 1) * channels * length])
                            let result = UnsafeMutableBufferPointer(rebasing: y[item * outputs * outLength..<(item + 1) * outputs * outLength])
                            if direct {
                                // [O, C] · [C, L] -> [O, L]
                                BLAS.sgemm(m: outputs, n: outLength, k: patch, a: w, lda: patch, b: signal, ldb: outLength,
                                           c: result, ldc: outLength, instructionSet: instructionSet)
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
                                           ldb: count, c: UnsafeMutableBufferPointer(rebasing: result[first...]), ldc: outLength,
                                           instructionSet: instructionSet)
                                first += count
                            }
                        }
                    }
                }
            }
            initialized = batch * outputs * outLength
        }
        return Tensor(shape: [batch, outputs, outLength], scalars: output)
    }

    /// `torch.nn.functional.conv_transpose1d` (the HiFi-GAN upsampler).
    ///
    /// Computed as one GEMM `Wᵀ · x` into per-tap columns `[O·k, L]`, then scattered (col2im)
    /// to positions `l·s − p + j`, output channels in parallel.
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
                output.withUnsafeMutableBufferPointer { y in
                    Workspace.shared.withScratch(count: outputs * kernel * length) { cols in
                        for item in 0..<batch {
                            let signal = UnsafeBufferPointer(rebasing: x[item * channels * length..<(item + 1) * channels * length])
                            // [C, O·k]ᵀ · [C, L] -> [O·k, L]
                            BLAS.sgemm(transposeA: true, m: outputs * kernel, n: length, k: channels, a: w, lda: outputs * kernel,
                                       b: signal, ldb: length, c: cols, ldc: length)
                            let base = item * outputs * outLength
                            ComputeThreads.parallelFor(outputs) { channel in
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
