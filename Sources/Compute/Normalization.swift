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
        var output = [Float](repeating: 0, count: input.count)
        input.scalars.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                ComputeThreads.parallelFor(batch * groups) { index in
                    let start = index * groupSize
                    let (mean, inverse) = statistics(x, start..<start + groupSize, epsilon: epsilon)
                    let firstChannel = (index % groups) * channelsPerGroup
                    for c in 0..<channelsPerGroup {
                        let scale = inverse * weight.scalars[firstChannel + c]
                        let shift = bias.scalars[firstChannel + c] - mean * scale
                        let base = start + c * spatial
                        for i in base..<base + spatial { y[i] = x[i] * scale + shift }
                    }
                }
            }
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

    /// Mean and `1/√(biased variance + eps)` of a range, two-pass in double precision.
    private static func statistics(_ x: UnsafeBufferPointer<Float>, _ range: Range<Int>, epsilon: Float) -> (Float, Float) {
        var sum = 0.0
        for i in range { sum += Double(x[i]) }
        let mean = sum / Double(range.count)
        var squares = 0.0
        for i in range {
            let deviation = Double(x[i]) - mean
            squares += deviation * deviation
        }
        let variance = squares / Double(range.count)
        return (Float(mean), Float(1 / (variance + Double(epsilon)).squareRoot()))
    }
}
