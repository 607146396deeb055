import Compute

/// The one element-wise kernel the schedulers' update rules are written with.
///
/// A step is a handful of float32 operations per element whose order matters: diffusers evaluates
/// each formula as a chain of torch element-wise ops, each rounding to float32, and the Swift
/// closures spell the same chain in the same order (Swift does not contract `a·b + c` into fused
/// multiply–adds, and neither do torch's separate kernels). One pass, one allocation: the result.
enum Elementwise {
    /// A tensor of `shape` whose element `i` is `element(i)`.
    ///
    /// - Parameters:
    ///   - shape: the result's shape (that of the step's inputs, e.g. `[B, 4, H/8, W/8]`).
    ///   - element: the value at flat index `i`; it reads the inputs' scalars at the same index.
    /// - Complexity: O(n), one allocation.
    @inline(__always)
    static func tabulate(_ shape: [Int], _ element: (Int) -> Float) -> Tensor {
        let count = shape.reduce(1, *)
        let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            for index in 0..<count { buffer[index] = element(index) }
            initialized = count
        }
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Checks that the tensors of one step agree in shape (a programmer error otherwise).
    static func requireSameShape(_ tensors: Tensor..., scheduler: String) {
        guard let first = tensors.first else { return }
        precondition(tensors.allSatisfy { $0.shape == first.shape },
                     "\(scheduler): step inputs have different shapes \(tensors.map(\.shape))")
    }
}
