import Compute

/// The comparison policy of every numerical test, in one place.
///
/// Parity is measured with the normalised mean squared error
/// `nmse(a, b) = Σ(a−b)² / Σb²` (ggml's `test-backend-ops` metric; `b` is the reference)
/// and the maximum absolute error. A test names the preset it uses, so a reader sees at a
/// glance how strict it is.
public struct Tolerance: Sendable, CustomStringConvertible {
    /// Largest accepted NMSE.
    public var nmse: Double
    /// Largest accepted absolute difference of any element.
    public var maxAbs: Double

    public init(nmse: Double, maxAbs: Double) {
        self.nmse = nmse
        self.maxAbs = maxAbs
    }

    /// Spectrogram images in [0, 1] against the reference converter, on the cells within the
    /// dynamic range of ``SpectrogramTolerance/logMel``.
    public static let image = Tolerance(nmse: 1e-10, maxAbs: 1e-5)
    /// The librosa mel filterbank.
    public static let filterbank = Tolerance(nmse: 1e-12, maxAbs: 1e-6)
    /// Element-wise operations that should agree to float rounding.
    public static let exact = Tolerance(nmse: 1e-10, maxAbs: 1e-5)
    /// A small network in float32 against PyTorch's float32 forward, outputs in [−1, 1]
    /// (issue #4). Float16 checkpoints are held to it too: both sides widen the same float16
    /// values, so only float32 summation order differs.
    public static let network = Tolerance(nmse: 1e-8, maxAbs: 1e-4)
    /// A full-size network on synthetic weights (sums over thousands of terms with heavy
    /// cancellation; PyTorch's own float32 output is ~5e-10 from float64; issue #4).
    public static let networkFullSize = Tolerance(nmse: 1e-6, maxAbs: 1e-4)

    public var description: String { "nmse ≤ \(nmse), max|Δ| ≤ \(maxAbs)" }
}

/// How far `actual` is from `expected`.
public struct Discrepancy: Sendable, CustomStringConvertible {
    public var nmse: Double
    public var maxAbs: Double
    /// Flat index of the largest absolute difference.
    public var worstIndex: Int

    /// Whether both measures are within `tolerance`.
    public func isWithin(_ tolerance: Tolerance) -> Bool {
        nmse <= tolerance.nmse && maxAbs <= tolerance.maxAbs
    }

    public var description: String { "nmse \(nmse), max|Δ| \(maxAbs) at \(worstIndex)" }
}

/// Compares two equally long arrays (`expected` is the reference).
public func compare(_ actual: [Float], _ expected: [Float]) -> Discrepancy {
    precondition(actual.count == expected.count, "compare: \(actual.count) vs \(expected.count) elements")
    var squaredError = 0.0, squaredReference = 0.0, maxAbs = 0.0, worst = 0
    for index in expected.indices {
        let difference = Double(actual[index]) - Double(expected[index])
        squaredError += difference * difference
        squaredReference += Double(expected[index]) * Double(expected[index])
        if abs(difference) > maxAbs || difference.isNaN {
            maxAbs = difference.isNaN ? .infinity : abs(difference)
            worst = index
        }
    }
    let nmse = squaredReference > 0 ? squaredError / squaredReference : squaredError
    return Discrepancy(nmse: nmse, maxAbs: maxAbs, worstIndex: worst)
}

/// Compares two tensors; their shapes must be equal.
public func compare(_ actual: Tensor, _ expected: Tensor) -> Discrepancy {
    precondition(actual.shape == expected.shape, "compare: shape \(actual.shape) vs reference \(expected.shape)")
    return compare(actual.scalars, expected.scalars)
}

extension Tolerance {
    /// Scheduler trajectories against diffusers (Tests/SchedulersTests): float32 update formulas in
    /// torch's operation order, over up to 101 steps of latents whose magnitude stays below ~20
    /// (Euler's σ-scaled samples).
    public static let schedulerTrajectory = Tolerance(nmse: 1e-10, maxAbs: 1e-4)
}
