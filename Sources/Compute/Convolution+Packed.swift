import CKernels

extension Convolution {
    /// Output positions of one piece of parallel work are a multiple of this (the AVX-512 kernel's
    /// panel width), so that only the last piece of a row has a partial panel.
    private static let positionGranularity = 32
    /// Output channels of one piece are a multiple of this (of both kernels' register tile heights, 12 and 6).
    private static let outputGranularity = 24

    /// The convolution of `shape` through `ck_conv`, which packs the columns of its product from
    /// the image itself: bias and residual added, `[N, O, H′·W′]`. Each batch item is cut into one
    /// piece per thread along the longer of its output positions and output channels. `nil` if a
    /// piece could not allocate its packing buffers.
    static func packedConvolution(_ input: Tensor, weight: Tensor, bias: Tensor?, residual: Tensor?,
                                  shape: ck_conv_shape, batch: Int, isa: ck_isa) -> [Float]? {
        let (outputs, positions) = (shape.outputs, shape.out_height * shape.out_width)
        let imageSize = shape.channels * shape.height * shape.width, outputSize = outputs * positions
        let work = batch * outputSize * shape.channels * shape.kernel_height * shape.kernel_width
        let threads = work >= BLAS.parallelMinimumWork && !ComputeThreads.isInsideParallelWork ? ComputeThreads.count : 1
        let alongPositions = positions >= outputs
        let (side, granularity) = alongPositions ? (positions, positionGranularity) : (outputs, outputGranularity)
        let pieceSize = ((side + threads - 1) / threads + granularity - 1) / granularity * granularity
        let pieces = (side + pieceSize - 1) / pieceSize
        var failures = [Int32](repeating: 0, count: batch * pieces)
        let output = [Float](unsafeUninitializedCapacity: batch * outputSize) { y, initialized in
            withUnsafePointer(to: shape) { shape in
                input.scalars.withUnsafeBufferPointer { x in
                    weight.scalars.withUnsafeBufferPointer { w in
                        bias.withUnsafeScalars { b in
                            residual.withUnsafeScalars { r in
                                failures.withUnsafeMutableBufferPointer { failed in
                                    ComputeThreads.parallelFor(batch * pieces) { chunk in
                                        let (item, start) = (chunk / pieces, chunk % pieces * pieceSize)
                                        let size = Swift.min(pieceSize, side - start)
                                        let range = alongPositions
                                            ? ck_conv_range(first_output: 0, output_count: outputs, first_position: start, position_count: size)
                                            : ck_conv_range(first_output: start, output_count: size, first_position: 0, position_count: positions)
                                        failed[chunk] = ck_conv(isa, shape, w.baseAddress, b, x.baseAddress! + item * imageSize,
                                                                r.map { $0 + item * outputSize }, y.baseAddress! + item * outputSize, range)
                                    }
                                }
                            }
                        }
                    }
                }
            }
            initialized = batch * outputSize
        }
        return failures.allSatisfy { $0 == 0 } ? output : nil
    }
}

private extension Optional where Wrapped == Tensor {
    /// `body` with the tensor's scalars, or with `nil` when there is no tensor.
    func withUnsafeScalars<Result>(_ body: (UnsafePointer<Float>?) -> Result) -> Result {
        switch self {
        case .some(let tensor): tensor.scalars.withUnsafeBufferPointer { body($0.baseAddress) }
        case .none: body(nil)
        }
    }
}
