import CKernels

extension Convolution {
    /// Output positions of one piece of parallel work are a multiple of this (the AVX-512 kernel's
    /// panel width), so that only the last piece of a row has a partial panel.
    private static let positionGranularity = 32
    /// Output channels of one piece are a multiple of this (of both kernels' register tile heights, 12 and 6).
    private static let outputGranularity = 24

    /// The convolution of `shape` through `ck_conv` (`ck_conv_bf16` in a bfloat16
    /// ``ProductPrecision`` scope where `instructionSet` has it), which packs the columns of its
    /// product from the image itself: bias and residual added, `[N, O, H′·W′]`. Each batch item is
    /// cut into one piece per thread along the longer of its output positions and output channels.
    /// Each piece packs into scratch from ``Workspace``. `nil` if `instructionSet` has no kernels.
    static func packedConvolution(_ input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?,
                                  shape: ck_conv_shape, batch: Int, instructionSet: InstructionSet) -> [Float]? {
        guard let isa = instructionSet.kernel else { return nil }
        let bfloat16 = ProductPrecision.current == .bfloat16 && ProductPrecision.bfloat16.runs(on: instructionSet)
        let imageSize = shape.channels * shape.height * shape.width, outputSize = shape.outputs * shape.out_height * shape.out_width
        return withUnsafePointer(to: shape) { shape in
            input.scalars.withUnsafeBufferPointer { x in
                weight.scalars.withUnsafeBufferPointer { w in
                    bias.withUnsafeScalars { biasScalars in
                        residual.withUnsafeScalars { residualScalars in
                            let (b, r) = (biasScalars?.baseAddress, residualScalars?.baseAddress)
                            return inPieces(shape.pointee, batch: batch, positions: shape.pointee.out_height * shape.pointee.out_width,
                                     positionGranularity: positionGranularity, positionsPerOutput: 1) { item, range, y in
                                let (image, extra) = (x.baseAddress! + item * imageSize, r.map { $0 + item * outputSize })
                                let count = ck_conv_scratch_count(isa, bfloat16 ? 1 : 0, shape, range)
                                return Workspace.shared.withScratch(count: count) { scratch in
                                    bfloat16 ? ck_conv_bf16(shape, w.baseAddress, b, image, extra, y + item * outputSize, range, scratch.baseAddress)
                                        : ck_conv(isa, shape, w.baseAddress, b, image, extra, y + item * outputSize, range, scratch.baseAddress)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The 1-D convolution of `shape` through `ck_winograd1d` (Winograd F(4, 3) on three-tap
    /// pieces of the kernel, with `filter`): bias and residual added, `[N, O, L′]`. The input of
    /// every batch item is rearranged by phase first (channels in parallel); then each item is cut
    /// into pieces as ``packedConvolution`` cuts it, along its groups of tiles (of 4 · dilation
    /// outputs) or its output channels. `nil` if a piece could not allocate its buffers.
    static func winogradConvolution1d(_ input: Tensor, filter: WinogradFilter1D, bias: Tensor?, residual: Tensor?,
                                      shape: ck_conv_shape, batch: Int, isa: ck_isa) -> [Float]? {
        let outputSize = shape.outputs * shape.out_width, imageSize = shape.channels * shape.width
        return withUnsafePointer(to: shape) { shape in
            let (groups, splitSize) = (ck_winograd1d_groups(shape), ck_winograd1d_split_size(shape))
            let channels = shape.pointee.channels
            return input.scalars.withUnsafeBufferPointer { x in
                Workspace.shared.withScratch(count: batch * splitSize) { split in
                    ComputeThreads.parallelRanges(batch * channels) { rows in
                        for row in rows {
                            let (item, channel) = row.quotientAndRemainder(dividingBy: channels)
                            ck_winograd1d_split(isa, shape, x.baseAddress! + item * imageSize, channel, 1,
                                                split.baseAddress! + item * splitSize)
                        }
                    }
                    // The filter as packed for these kernels, if it was packed for them.
                    let packed = filter.packedFor.kernel == isa ? filter.packed : []
                    return filter.scalars.withUnsafeBufferPointer { w in
                        packed.withUnsafeBufferPointer { packed in
                            bias.withUnsafeScalars { biasScalars in
                                residual.withUnsafeScalars { residualScalars in
                                    let (b, r) = (biasScalars?.baseAddress, residualScalars?.baseAddress)
                                    // Pieces of any number of groups: each piece's last panel of tiles is
                                    // partial anyway (groups are counted per phase), so halves are even.
                                    return inPieces(shape.pointee, batch: batch, positions: groups, positionGranularity: 1,
                                             positionsPerOutput: 4 * shape.pointee.dilation) { item, range, y in
                                        ck_winograd1d(isa, shape, w.baseAddress, packed.isEmpty ? nil : packed.baseAddress, b,
                                                      split.baseAddress! + item * splitSize, r.map { $0 + item * outputSize },
                                                      y + item * outputSize, range)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The `[N, O, positions]` output of `body(item, range, output)` run on every batch item in pieces, one per
    /// thread, along the longer of its `positions` (each standing for `positionsPerOutput` outputs; pieces a
    /// multiple of `positionGranularity` of them) and output channels; `nil` if a piece failed (`body`
    /// returned non-zero).
    private static func inPieces(_ shape: ck_conv_shape, batch: Int, positions: Int, positionGranularity: Int,
                                 positionsPerOutput: Int,
                                 _ body: (Int, ck_conv_range, UnsafeMutablePointer<Float>) -> Int32) -> [Float]? {
        let outputs = shape.outputs, outputSize = outputs * shape.out_height * shape.out_width
        let work = batch * outputSize * shape.channels * shape.kernel_height * shape.kernel_width
        let threads = work >= BLAS.parallelMinimumWork && !ComputeThreads.isInsideParallelWork ? ComputeThreads.count : 1
        let alongPositions = positions * positionsPerOutput >= outputs
        let (side, granularity) = alongPositions ? (positions, positionGranularity) : (outputs, outputGranularity)
        let pieceSize = ((side + threads - 1) / threads + granularity - 1) / granularity * granularity
        let pieces = (side + pieceSize - 1) / pieceSize
        var failures = [Int32](repeating: 0, count: batch * pieces)
        let output = [Float](unsafeUninitializedCapacity: batch * outputSize) { y, initialized in
            failures.withUnsafeMutableBufferPointer { failed in
                ComputeThreads.parallelFor(batch * pieces) { chunk in
                    let (item, start) = (chunk / pieces, chunk % pieces * pieceSize)
                    let size = Swift.min(pieceSize, side - start)
                    let range = alongPositions
                        ? ck_conv_range(first_output: 0, output_count: outputs, first_position: start, position_count: size)
                        : ck_conv_range(first_output: start, output_count: size, first_position: 0, position_count: positions)
                    failed[chunk] = body(item, range, y.baseAddress!)
                }
            }
            initialized = batch * outputSize
        }
        return failures.allSatisfy { $0 == 0 } ? output : nil
    }
}

