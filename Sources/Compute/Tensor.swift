/// A dense Float32 tensor: a shape and its scalars in contiguous row-major (C) order.
///
/// `Tensor` is a value type. Its storage is a Swift `Array`, so copies are cheap and
/// copy-on-write: two tensors share memory until one of them is mutated. Layout is always
/// contiguous; operations that change the layout (`permuted`, `sliced`) return new tensors.
///
/// ```swift
/// let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
/// x[1, 2]        // 6
/// x.shape        // [2, 3]
/// ```
public struct Tensor: Sendable, Equatable {
    /// Size of each dimension, outermost first. A scalar tensor has shape `[]`.
    public private(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.reduce(1, *)`.
    public var scalars: [Float] {
        // Not `oldValue`: a didSet that reads it copies the whole array on every in-place mutation (SE-0268).
        didSet { precondition(scalars.count == shape.reduce(1, *), "Tensor: scalar count must not change") }
    }

    /// Creates a tensor from a shape and its row-major scalars.
    /// - Precondition: `scalars.count` equals the product of `shape`.
    public init(shape: [Int], scalars: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
        precondition(shape.reduce(1, *) == scalars.count,
                     "Tensor: shape \(shape) needs \(shape.reduce(1, *)) scalars, got \(scalars.count)")
        self.shape = shape
        self.scalars = scalars
    }

    /// Creates a tensor of the given shape with every element equal to `value`.
    public init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, scalars: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    /// A tensor of zeros.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }

    /// Number of elements.
    public var count: Int { scalars.count }

    /// Number of dimensions.
    public var rank: Int { shape.count }

    /// Row-major strides, in elements.
    public var strides: [Int] {
        var result = [Int](repeating: 1, count: shape.count)
        var stride = 1
        for axis in shape.indices.reversed() {
            result[axis] = stride
            stride *= shape[axis]
        }
        return result
    }

    /// The same scalars viewed under another shape with the same element count.
    /// A dimension of `-1` is inferred.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var resolved = newShape
        if let inferred = newShape.firstIndex(of: -1) {
            let known = newShape.filter { $0 != -1 }.reduce(1, *)
            precondition(known > 0 && count % known == 0, "Tensor: cannot reshape \(shape) to \(newShape)")
            resolved[inferred] = count / known
        }
        return Tensor(shape: resolved, scalars: scalars)
    }

    /// The element at a full multi-index.
    public subscript(indices: Int...) -> Float {
        get { scalars[flatIndex(indices)] }
        set { scalars[flatIndex(indices)] = newValue }
    }

    private func flatIndex(_ indices: [Int]) -> Int {
        precondition(indices.count == shape.count, "Tensor: \(indices.count) indices for shape \(shape)")
        var flat = 0
        for (axis, index) in indices.enumerated() {
            precondition(index >= 0 && index < shape[axis], "Tensor: index \(indices) out of range for \(shape)")
            flat = flat * shape[axis] + index
        }
        return flat
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String { "Tensor(shape: \(shape), count: \(count))" }
}

extension Optional where Wrapped == Tensor {
    /// `body` with the tensor's scalars, or with `nil` when there is no tensor.
    func withUnsafeScalars<Result>(_ body: (UnsafeBufferPointer<Float>?) -> Result) -> Result {
        switch self {
        case .some(let tensor): tensor.scalars.withUnsafeBufferPointer { body($0) }
        case .none: body(nil)
        }
    }
}
