import Foundation

/// Element-wise arithmetic with NumPy/PyTorch broadcasting, and the activations the models use.
///
/// Broadcasting: shapes are aligned at their last axis; each pair of dimensions must be equal or
/// one of them 1 (a missing leading axis counts as 1), and the result takes the larger.
/// E.g. `[2, 3, 4, 5] + [3, 1, 1] → [2, 3, 4, 5]`.
extension Tensor {
    /// The broadcast shape of two shapes, or `nil` when they are incompatible.
    public static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = Swift.max(a.count, b.count)
        let left = [Int](repeating: 1, count: rank - a.count) + a
        let right = [Int](repeating: 1, count: rank - b.count) + b
        var result: [Int] = []
        for (x, y) in zip(left, right) {
            guard x == y || x == 1 || y == 1 else { return nil }
            result.append(x == 1 ? y : x)
        }
        return result
    }

    /// `lhs ∘ rhs` element-wise with broadcasting.
    static func broadcasting(_ lhs: Tensor, _ rhs: Tensor, _ operation: (Float, Float) -> Float) -> Tensor {
        if lhs.shape == rhs.shape {
            var result = lhs.scalars
            rhs.scalars.withUnsafeBufferPointer { other in
                result.withUnsafeMutableBufferPointer { values in
                    for index in values.indices { values[index] = operation(values[index], other[index]) }
                }
            }
            return Tensor(shape: lhs.shape, scalars: result)
        }
        guard let shape = broadcastShape(lhs.shape, rhs.shape) else {
            preconditionFailure("broadcasting: shapes \(lhs.shape) and \(rhs.shape) are incompatible")
        }
        let rank = shape.count
        let leftStrides = broadcastStrides(lhs.shape, rank: rank), rightStrides = broadcastStrides(rhs.shape, rank: rank)
        let count = shape.reduce(1, *)
        var result = [Float](repeating: 0, count: count)
        // Merge trailing axes into one run that both operands walk with a fixed step (1, or 0 where
        // broadcast): `[B, C, H, W] + [B, C, 1, 1]` becomes B·C runs of H·W with steps 1 and 0.
        let leftStep = leftStrides[rank - 1], rightStep = rightStrides[rank - 1]
        var run = shape[rank - 1], outerAxes = rank - 1
        while outerAxes > 0, leftStrides[outerAxes - 1] == leftStep * run, rightStrides[outerAxes - 1] == rightStep * run {
            run *= shape[outerAxes - 1]
            outerAxes -= 1
        }
        lhs.scalars.withUnsafeBufferPointer { a in
            rhs.scalars.withUnsafeBufferPointer { b in
                result.withUnsafeMutableBufferPointer { out in
                    var index = [Int](repeating: 0, count: outerAxes)
                    var leftOffset = 0, rightOffset = 0, written = 0
                    while written < count {
                        for i in 0..<run { out[written + i] = operation(a[leftOffset + i * leftStep], b[rightOffset + i * rightStep]) }
                        written += run
                        var axis = outerAxes - 1
                        while axis >= 0 {
                            index[axis] += 1
                            leftOffset += leftStrides[axis]
                            rightOffset += rightStrides[axis]
                            if index[axis] < shape[axis] { break }
                            leftOffset -= leftStrides[axis] * shape[axis]
                            rightOffset -= rightStrides[axis] * shape[axis]
                            index[axis] = 0
                            axis -= 1
                        }
                    }
                }
            }
        }
        return Tensor(shape: shape, scalars: result)
    }

    /// Row-major strides of `shape` left-padded to `rank`, with 0 on broadcast (size-1) axes.
    private static func broadcastStrides(_ shape: [Int], rank: Int) -> [Int] {
        let padded = [Int](repeating: 1, count: rank - shape.count) + shape
        var strides = [Int](repeating: 0, count: rank)
        var stride = 1
        for axis in (0..<rank).reversed() {
            strides[axis] = padded[axis] == 1 ? 0 : stride
            stride *= padded[axis]
        }
        return strides
    }

    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(lhs, rhs, +) }
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(lhs, rhs, -) }
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { broadcasting(lhs, rhs, *) }
    public static func * (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 * rhs } }
    public static func + (lhs: Tensor, rhs: Float) -> Tensor { lhs.map { $0 + rhs } }

    /// `self += other` for equal shapes, without allocating, in parallel for large tensors (the
    /// U-Net's residual adds, which would otherwise leave all threads but one idle).
    public mutating func add(_ other: Tensor) {
        precondition(shape == other.shape, "add: \(shape) vs \(other.shape)")
        other.scalars.withUnsafeBufferPointer { source in
            scalars.withUnsafeMutableBufferPointer { values in
                ComputeThreads.parallelRanges(values.count, minimumPerRange: 1 << 16) { range in
                    for index in range { values[index] += source[index] }
                }
            }
        }
    }

    /// A tensor of the same shape with `transform` applied to every element.
    public func map(_ transform: (Float) -> Float) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map(transform))
    }

    /// Applies an 8-lane vector function to every element, in parallel for large tensors. In place
    /// when the tensor's storage is not shared, as for a temporary (`norm(x).silu()`): the result
    /// then takes no memory of its own, which at a U-Net's widest layers is 30 MB less at the
    /// peak. A shared tensor is copied first, as before.
    consuming func vectorMap(_ transform: (SIMD8<Float>) -> SIMD8<Float>) -> Tensor {
        var result = self
        let count = result.count
        result.scalars.withUnsafeMutableBufferPointer { values in
            guard let base = values.baseAddress else { return }
            ComputeThreads.parallelRanges(count, minimumPerRange: 1 << 16) { range in
                VectorMath.map(base + range.lowerBound, base + range.lowerBound, count: range.count, transform)
            }
        }
        return result
    }

    /// `x · σ(x)` (SiLU, `torch.nn.functional.silu`).
    public consuming func silu() -> Tensor { vectorMap { $0 / (1 + VectorMath.exp(-$0)) } }

    /// `x · σ(1.702 x)` (CLIP's `quick_gelu`).
    public consuming func quickGELU() -> Tensor { vectorMap { $0 / (1 + VectorMath.exp(-1.702 * $0)) } }

    /// `tanh(x)`, computed as `1 − 2 / (e^{2x} + 1)` (exact limits ±1 for large |x|).
    public consuming func tanh() -> Tensor { vectorMap { 1 - 2 / (VectorMath.exp(2 * $0) + 1) } }

    /// How `gelu` evaluates the Gaussian CDF.
    public enum GELUApproximation: Sendable {
        /// `x · ½(1 + erf(x/√2))` (PyTorch's default).
        case none
        /// `x · ½(1 + tanh(√(2/π)(x + 0.044715x³)))` (`approximate='tanh'`).
        case tanh
    }

    /// The Gaussian error linear unit, `torch.nn.functional.gelu`.
    public func gelu(approximation: GELUApproximation = .none) -> Tensor {
        switch approximation {
        case .none:
            return vectorMap(VectorMath.gelu)
        case .tanh:
            return vectorMap { x in
                let inner = 0.797_884_560_802_865_4 * (x + 0.044715 * x * x * x)
                return 0.5 * x * (2 - 2 / (VectorMath.exp(2 * inner) + 1))
            }
        }
    }

    /// `u · gelu(g)` for `[u, g] = chunked(2, axis: rank − 1)` (diffusers' `GEGLU`), in one
    /// parallel pass that never materialises the halves: `[…, 2D] → […, D]`. Each element is
    /// computed as `u * x.chunked(…)[1].gelu()` would compute it, so the two agree bit for bit.
    public func gatedGELU() -> Tensor {
        let width = (shape.last ?? 0) / 2
        precondition(rank >= 1 && shape[rank - 1] == 2 * width, "gatedGELU: the last axis of \(shape) must be even")
        let rows = count / Swift.max(1, 2 * width)
        let result = [Float](unsafeUninitializedCapacity: rows * width) { output, initialized in
            scalars.withUnsafeBufferPointer { input in
                ComputeThreads.parallelRanges(rows, minimumPerRange: Swift.max(1, (1 << 15) / Swift.max(1, width))) { range in
                    guard let source = input.baseAddress, let destination = output.baseAddress else { return }
                    for row in range {
                        let values = 2 * width * row, gates = values + width
                        VectorMath.map(source + values, source + gates, destination + width * row, count: width) { $0 * VectorMath.gelu($1) }
                    }
                }
            }
            initialized = rows * width
        }
        return Tensor(shape: Array(shape.dropLast()) + [width], scalars: result)
    }

    /// `x` for `x ≥ 0`, `slope · x` otherwise (`torch.nn.functional.leaky_relu`; PyTorch's default slope is 0.01).
    /// In parallel for large tensors; NaN, like any value not ≥ 0, is multiplied by the slope.
    public consuming func leakyReLU(slope: Float = 0.01) -> Tensor { vectorMap { $0.replacing(with: $0 * slope, where: .!($0 .>= 0)) } }

    /// Softmax over the last axis, `exp(x − max) / Σ exp(x − max)` (stable for any magnitude).
    public func softmax() -> Tensor {
        var result = scalars
        let width = shape.last ?? 1
        result.withUnsafeMutableBufferPointer { values in
            guard let base = values.baseAddress, width > 0 else { return }
            let rows = count / width
            ComputeThreads.parallelRanges(rows, minimumPerRange: Swift.max(1, 4096 / width)) { range in
                for row in range { Softmax.normalizeRow(base + row * width, count: width) }
            }
        }
        return Tensor(shape: shape, scalars: result)
    }
}

/// The row kernel shared by `softmax` and attention.
enum Softmax {
    /// In place: `row ← exp(row − max) / Σ`.
    @inline(__always)
    static func normalizeRow(_ row: UnsafeMutablePointer<Float>, count: Int) {
        var maximum = VectorMath.maximum(row, count: count)
        if maximum == -.infinity { maximum = 0 }
        let inverse = 1 / VectorMath.exponentiate(row, count: count, shift: maximum)
        for index in 0..<count { row[index] *= inverse }
    }
}
