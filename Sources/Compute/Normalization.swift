import Foundation

/// Normalisation layers with PyTorch's semantics: biased variance, `1/√(var + eps)`, then the
/// per-channel affine transform. Statistics are accumulated in double precision.
public enum Normalization {
    /// `torch.nn.functional.group_norm`.
    ///
    /// - Parameters:
    ///   - input: `[N, C, …]`; channels split into `groups` consecutive groups.
    ///   - weight, bias: `[C]`.
    /// - Returns: the same shape.
    public static func groupNorm(_ input: Tensor, groups: Int, weight: Tensor, bias: Tensor, epsilon: Float) -> Tensor {
        precondition(input.rank >= 2 && input.shape[1] % groups == 0, "groupNorm: \(input.shape[1]) channels in \(groups) groups")
        let (batch, channels) = (input.shape[0], input.shape[1])
        let spatial = input.shape[2...].reduce(1, *)
        let channelsPerGroup = channels / groups, groupSize = channelsPerGroup * spatial
        precondition(weight.shape == [channels] && bias.shape == [channels], "groupNorm: affine parameters must be [\(channels)]")
        // Every element is written below, so the output skips the zero fill (a third of the
        // kernel's memory traffic).
        let output = [Float](unsafeUninitializedCapacity: input.count) { y, initialized in
            input.scalars.withUnsafeBufferPointer { x in
                weight.scalars.withUnsafeBufferPointer { gamma in
                    bias.scalars.withUnsafeBufferPointer { beta in
                        ComputeThreads.parallelFor(batch * groups) { index in
                            let start = index * groupSize
                            let (mean, inverse) = statistics(x, start..<start + groupSize, epsilon: epsilon)
                            let firstChannel = (index % groups) * channelsPerGroup
                            guard let source = x.baseAddress, let destination = y.baseAddress else { return }
                            for c in 0..<channelsPerGroup {
                                let scale = SIMD8<Float>(repeating: inverse * gamma[firstChannel + c])
                                let shift = SIMD8<Float>(repeating: beta[firstChannel + c]) - SIMD8(repeating: mean) * scale
                                let base = start + c * spatial
                                VectorMath.map(source + base, destination + base, count: spatial) { $0 * scale + shift }
                            }
                        }
                    }
                }
            }
            initialized = input.count
        }
        return Tensor(shape: input.shape, scalars: output)
    }

    /// `torch.nn.functional.layer_norm` over the last axis.
    ///
    /// - Parameters:
    ///   - input: `[…, D]`.
    ///   - weight, bias: `[D]`.
    public static func layerNorm(_ input: Tensor, weight: Tensor, bias: Tensor, epsilon: Float) -> Tensor {
        let width = input.shape.last ?? 0
        precondition(weight.shape == [width] && bias.shape == [width], "layerNorm: affine parameters must be [\(width)]")
        let rows = input.count / Swift.max(1, width)
        var output = [Float](repeating: 0, count: input.count)
        input.scalars.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                ComputeThreads.parallelRanges(rows, minimumPerRange: 64) { range in
                    for row in range {
                        let start = row * width
                        let (mean, inverse) = statistics(x, start..<start + width, epsilon: epsilon)
                        for i in 0..<width {
                            y[start + i] = (x[start + i] - mean) * inverse * weight.scalars[i] + bias.scalars[i]
                        }
                    }
                }
            }
        }
        return Tensor(shape: input.shape, scalars: output)
    }

    /// Mean and `1/√(biased variance + eps)` of a range in one pass over shifted values
    /// `d = x − x₀` (x₀ the first element, so a large mean costs no precision):
    /// `mean = x₀ + Σd/n`, `var = Σd²/n − (Σd/n)²`. Sums run in 8 float lanes over chunks of
    /// 512 elements, chunk sums added in double precision.
    private static func statistics(_ x: UnsafeBufferPointer<Float>, _ range: Range<Int>, epsilon: Float) -> (Float, Float) {
        guard let base = x.baseAddress, !range.isEmpty else { return (0, 1) }
        let values = base + range.lowerBound, count = range.count
        let shift = values[0], center = SIMD8<Float>(repeating: shift)
        var sum = 0.0, squares = 0.0, index = 0
        while index < count {
            let end = Swift.min(count, index + 512)
            // Four independent accumulators: one chain of vector adds would wait on each add's
            // latency, and this pass would take twice as long as reading the memory.
            var lanes = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            var squareLanes = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())
            func deviation(_ offset: Int) -> SIMD8<Float> {
                UnsafeRawPointer(values + index + offset).loadUnaligned(as: SIMD8<Float>.self) - center
            }
            while index + 32 <= end {
                let (d0, d1, d2, d3) = (deviation(0), deviation(8), deviation(16), deviation(24))
                lanes.0 += d0
                lanes.1 += d1
                lanes.2 += d2
                lanes.3 += d3
                squareLanes.0 += d0 * d0
                squareLanes.1 += d1 * d1
                squareLanes.2 += d2 * d2
                squareLanes.3 += d3 * d3
                index += 32
            }
            while index + 8 <= end {
                let d0 = deviation(0)
                lanes.0 += d0
                squareLanes.0 += d0 * d0
                index += 8
            }
            var tail: Float = 0, tailSquares: Float = 0
            while index < end {
                let deviation = values[index] - shift
                tail += deviation
                tailSquares += deviation * deviation
                index += 1
            }
            sum += Double((lanes.0 + lanes.1 + lanes.2 + lanes.3).sum()) + Double(tail)
            squares += Double((squareLanes.0 + squareLanes.1 + squareLanes.2 + squareLanes.3).sum()) + Double(tailSquares)
        }
        let meanDeviation = sum / Double(count)
        let variance = Swift.max(0, squares / Double(count) - meanDeviation * meanDeviation)
        return (Float(Double(shift) + meanDeviation), Float(1 / (variance + Double(epsilon)).squareRoot()))
    }
}
