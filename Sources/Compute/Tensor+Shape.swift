/// Layout operations. All of them return new contiguous tensors (copies), because `Tensor` is
/// always contiguous; none of them allocates more than its result.
extension Tensor {
    /// The tensor with its axes reordered: result axis `i` is input axis `axes[i]`
    /// (`torch.permute`). E.g. `[B, C, H, W].permuted([0, 2, 3, 1]) → [B, H, W, C]`.
    public func permuted(_ axes: [Int]) -> Tensor {
        precondition(axes.sorted() == Array(0..<rank), "permuted: \(axes) is not a permutation of \(rank) axes")
        if axes == Array(0..<rank) { return self }
        let newShape = axes.map { shape[$0] }
        let sourceStrides = strides
        let permutedStrides = axes.map { sourceStrides[$0] }
        let inner = newShape.last ?? 1, innerStride = permutedStrides.last ?? 1
        let runs = count / Swift.max(1, inner)
        let result = [Float](unsafeUninitializedCapacity: count) { destination, initialized in
            scalars.withUnsafeBufferPointer { source in
                // Each thread walks its share of the output in order with an odometer over the
                // outer axes, started from its first run; the innermost axis is a strided copy.
                ComputeThreads.parallelRanges(runs, minimumPerRange: Swift.max(1, (1 << 16) / Swift.max(1, inner))) { range in
                    var index = [Int](repeating: 0, count: Swift.max(0, rank - 1))
                    var offset = 0, remainder = range.lowerBound
                    for axis in stride(from: rank - 2, through: 0, by: -1) {
                        index[axis] = remainder % newShape[axis]
                        remainder /= newShape[axis]
                        offset += index[axis] * permutedStrides[axis]
                    }
                    for run in range {
                        let written = run * inner
                        for i in 0..<inner { destination[written + i] = source[offset + i * innerStride] }
                        var axis = rank - 2
                        while axis >= 0 {
                            index[axis] += 1
                            offset += permutedStrides[axis]
                            if index[axis] < newShape[axis] { break }
                            offset -= permutedStrides[axis] * newShape[axis]
                            index[axis] = 0
                            axis -= 1
                        }
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: newShape, scalars: result)
    }

    /// The elements `start..<end` along `axis` (`x.narrow(axis, start, end − start)`).
    public func sliced(axis: Int, _ range: Range<Int>) -> Tensor {
        precondition(axis >= 0 && axis < rank && range.lowerBound >= 0 && range.upperBound <= shape[axis],
                     "sliced: \(range) out of bounds for axis \(axis) of \(shape)")
        let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
        var newShape = shape
        newShape[axis] = range.count
        var result = [Float]()
        result.reserveCapacity(outer * range.count * inner)
        for block in 0..<outer {
            let start = (block * shape[axis] + range.lowerBound) * inner
            result.append(contentsOf: scalars[start..<start + range.count * inner])
        }
        return Tensor(shape: newShape, scalars: result)
    }

    /// Tensors joined along `axis` (`torch.cat`); all other dimensions must agree.
    public static func concatenated(_ tensors: [Tensor], axis: Int) -> Tensor {
        guard let first = tensors.first else { preconditionFailure("concatenated: no tensors") }
        precondition(axis >= 0 && axis < first.rank, "concatenated: bad axis \(axis) for \(first.shape)")
        for tensor in tensors {
            precondition(tensor.rank == first.rank && (0..<first.rank).allSatisfy { $0 == axis || tensor.shape[$0] == first.shape[$0] },
                         "concatenated: \(tensor.shape) does not fit \(first.shape) along axis \(axis)")
        }
        let outer = first.shape[..<axis].reduce(1, *), inner = first.shape[(axis + 1)...].reduce(1, *)
        var newShape = first.shape
        newShape[axis] = tensors.reduce(0) { $0 + $1.shape[axis] }
        var result = [Float]()
        result.reserveCapacity(newShape.reduce(1, *))
        for block in 0..<outer {
            for tensor in tensors {
                let length = tensor.shape[axis] * inner
                result.append(contentsOf: tensor.scalars[block * length..<(block + 1) * length])
            }
        }
        return Tensor(shape: newShape, scalars: result)
    }

    /// `parts` equal pieces along `axis` (`torch.chunk` with a divisible size).
    public func chunked(_ parts: Int, axis: Int) -> [Tensor] {
        precondition(parts > 0 && shape[axis] % parts == 0, "chunked: \(shape[axis]) is not divisible by \(parts)")
        let size = shape[axis] / parts
        return (0..<parts).map { sliced(axis: axis, $0 * size..<($0 + 1) * size) }
    }
}

extension Tensor {
    /// `[N, C, H, W]` zero-padded by the given number of rows and columns on each side
    /// (`torch.nn.functional.pad(x, (left, right, top, bottom))`).
    public func padded2d(top: Int = 0, bottom: Int = 0, left: Int = 0, right: Int = 0) -> Tensor {
        precondition(rank == 4 && top >= 0 && bottom >= 0 && left >= 0 && right >= 0, "padded2d: expected [N, C, H, W]")
        let (planes, height, width) = (shape[0] * shape[1], shape[2], shape[3])
        let newHeight = height + top + bottom, newWidth = width + left + right
        var result = [Float](repeating: 0, count: planes * newHeight * newWidth)
        scalars.withUnsafeBufferPointer { source in
            for plane in 0..<planes {
                for row in 0..<height {
                    let from = (plane * height + row) * width
                    let to = (plane * newHeight + row + top) * newWidth + left
                    for column in 0..<width { result[to + column] = source[from + column] }
                }
            }
        }
        return Tensor(shape: [shape[0], shape[1], newHeight, newWidth], scalars: result)
    }
}
