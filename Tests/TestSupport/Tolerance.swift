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
    /// A small network in float32 against PyTorch's float32 forward, outputs in [−1, 1]: the tiny
    /// VAEs (float16 checkpoint included: both sides widen the same float16 values, so only float32
    /// summation order differs), vocoders, text encoders and the encoding of an edited clip.
    /// Measured: nmse ≤ 3.4e-12 (VAE float16 case 1.1e-12), max|Δ| ≤ 7.6e-6. Bound = 30× the
    /// largest nmse; a float16 widening error (≈ 1e-6) fails it.
    public static let network = Tolerance(nmse: 1e-10, maxAbs: 1e-4)
    /// A full-size network on synthetic weights (sums over thousands of terms with heavy
    /// cancellation; PyTorch's own float32 output is ~5e-10 from float64; issue #4).
    public static let networkFullSize = Tolerance(nmse: 1e-6, maxAbs: 1e-4)
    /// The full-size Stable Diffusion VAE on synthetic weights at 256 × 1024 (decode, then encode
    /// back): sums over thousands of terms, single elements move more. Measured: nmse 3.9e-10 – 1.4e-7,
    /// max|Δ| ≤ 3.4e-4. Bound: 7× and 15×.
    public static let autoencoderFullSize = Tolerance(nmse: 1e-6, maxAbs: 5e-3)
    /// Text-to-audio end to end on the tiny model folders (PipelineParityTests): the log-mel that
    /// goes to the vocoder, 10 guided steps. Measured: nmse 3.2e-12 – 1.7e-11, max|Δ| ≤ 9.2e-5; the
    /// reference itself moves as much (float32 against float64: 2.0e-12 – 6.0e-12; rerun on
    /// another CPU: up to 1.0e-11; scripts/reference/spread.py). Bound ≈ 60× the largest figure
    /// (docs/parity.md).
    public static let pipeline = Tolerance(nmse: 1e-9, maxAbs: 1e-3)
    /// The vocoder's waveform of the same runs. Measured: nmse 3.2e-12 – 1.0e-11, max|Δ| ≤ 9.4e-6.
    public static let pipelineWaveform = Tolerance(nmse: 1e-9, maxAbs: 1e-4)
    /// Edits against their Python restatements (style transfer, inpainting, prompt-to-prompt, edit
    /// plans, local blend): the log-mel of every output. Measured: nmse 3.2e-12 – 2.5e-11, max|Δ|
    /// ≤ 1.25e-4; the reference's float32-vs-float64 spread on the same edits 1.8e-12 – 1.0e-11.
    /// Bound = 80× the largest figure.
    public static let edit = Tolerance(nmse: 2e-9, maxAbs: 2e-3)
    /// The shipped embedded model through the whole pipeline (25 steps, 256 × 256 canvas) against
    /// diffusers, on the decoded image in [0, 1]. Measured: nmse 3.6e-13 – 1.0e-11, max|Δ| ≤ 3.0e-5.
    /// Bound ≈ 100× the largest figure.
    public static let embeddedModel = Tolerance(nmse: 1e-9, maxAbs: 5e-4)
    /// Swift against Swift where only the U-Net batch differs (an identity edit against plain style
    /// transfer: batch 4 against 2), so GEMM blocking rounds differently. Measured: nmse 4.3e-12 –
    /// 1.9e-11, max|Δ| ≤ 9.9e-5. Bound ≈ 50× the largest figure.
    public static let batchRounding = Tolerance(nmse: 1e-9, maxAbs: 1e-3)

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
