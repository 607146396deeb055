import Compute
import Weights

/// How a checkpoint stores the weights of layers PyTorch wrapped in `torch.nn.utils.weight_norm`.
///
/// Weight normalisation (Salimans & Kingma 2016, eq. 2) reparametrises a weight as
/// `W = g · v / ‖v‖`. PyTorch's `weight_norm(module, dim=0)` stores `weight_g`, the magnitude,
/// of shape `[d₀, 1, …, 1]`, and `weight_v`, the direction, of the weight's own shape, and takes
/// the norm over every axis except axis 0 (torch/nn/utils/weight_norm.py, `norm_except_dim`).
/// Axis 0 is the output channel of a `Conv1d` (`[out, in, k]`) but the *input* channel of a
/// `ConvTranspose1d` (`[in, out, k]`), whose norm is therefore taken per input channel.
/// `remove_weight_norm` folds the pair back into `weight`; this port folds at load.
public enum WeightNorm: Sendable, Equatable {
    /// `weight` itself: a plain layer, or one saved after `remove_weight_norm`.
    case folded
    /// `weight_g` and `weight_v`, folded into `weight` when the layer is built.
    case separated

    /// `.separated` if any key of `store` ends in `.weight_g` or `.weight_v`, else `.folded`.
    ///
    /// A checkpoint is one or the other as a whole: `remove_weight_norm` is applied to every
    /// layer at once. A file mixing both is reported key by key when the model is built.
    public static func detect(in store: any WeightStore) -> WeightNorm {
        store.keys.contains { $0.hasSuffix(".weight_g") || $0.hasSuffix(".weight_v") } ? .separated : .folded
    }

    /// `W = g · v / ‖v‖`, the norm of each slice of axis 0 taken over all its other elements.
    ///
    /// The norm is accumulated in double precision; `g / ‖v‖` and the product are rounded to
    /// Float, as PyTorch's `v * (g / norm_except_dim(v, 2, 0))`. A slice of zeros (never in a
    /// trained checkpoint) folds to zeros, where PyTorch would give NaN.
    /// - Parameters:
    ///   - magnitude: `g`, `[d₀, 1, …]` (any shape with `d₀` elements).
    ///   - direction: `v`, `[d₀, …]`.
    /// - Returns: `W`, shaped as `direction`.
    public static func fold(magnitude: Tensor, direction: Tensor) -> Tensor {
        let slices = direction.shape.first ?? 1
        precondition(magnitude.count == slices, "WeightNorm.fold: g \(magnitude.shape) does not match v \(direction.shape)")
        let sliceLength = direction.count / Swift.max(1, slices)
        var weight = direction.scalars
        weight.withUnsafeMutableBufferPointer { values in
            for slice in 0..<slices {
                let range = slice * sliceLength..<(slice + 1) * sliceLength
                let norm = range.reduce(0.0) { $0 + Double(values[$1]) * Double(values[$1]) }.squareRoot()
                let scale = norm > 0 ? magnitude.scalars[slice] / Float(norm) : 0
                for index in range { values[index] *= scale }
            }
        }
        return Tensor(shape: direction.shape, scalars: weight)
    }
}

extension Parameters {
    /// A layer's `weight` of `shape`: read as is when `.folded`, or folded from `weight_g`
    /// (`[shape[0], 1, …]`) and `weight_v` (`shape`) when `.separated`.
    public func weight(shape: [Int], norm: WeightNorm) -> Tensor {
        switch norm {
        case .folded:
            return tensor("weight", shape: shape)
        case .separated:
            let magnitudeShape = [shape[0]] + Array(repeating: 1, count: shape.count - 1)
            return WeightNorm.fold(magnitude: tensor("weight_g", shape: magnitudeShape),
                                   direction: tensor("weight_v", shape: shape))
        }
    }
}
