import Compute
import Foundation

/// How a log-magnitude spectrogram (natural log, as the Auffusion log-mel) compares with its
/// reference.
///
/// Float32 FFTs (ours on FFTW, the reference's `torch.stft`) both carry rounding errors of
/// about 1e-7 of the clip's peak magnitude. In the log domain that is negligible for loud cells
/// but grows without bound toward the 1e-5 floor: the reference itself differs from a float64
/// evaluation of its own formula by up to 0.04 on the quiet cells of a pure tone. So the strict
/// log-domain tolerance applies to the cells within a dynamic range of the loudest one, and the
/// rest are held to a linear error relative to the peak.
public struct SpectrogramDiscrepancy: Sendable, CustomStringConvertible {
    /// Log-domain discrepancy over the cells within the dynamic range.
    public var inRange: Discrepancy
    /// Fraction of cells within the dynamic range.
    public var coveredFraction: Double
    /// `max |e^actual − e^expected| / max e^expected` over every cell.
    public var linearRelativeToPeak: Double

    public var description: String {
        "in range (\(Int(coveredFraction * 100)) % of cells): \(inRange); linear error / peak \(linearRelativeToPeak)"
    }

    /// Whether the in-range cells meet `tolerance` and every cell meets `linearRelativeToPeak`.
    public func isWithin(_ tolerance: SpectrogramTolerance) -> Bool {
        inRange.isWithin(tolerance.inRange) && linearRelativeToPeak <= tolerance.linearRelativeToPeak
    }
}

/// The tolerance of a ``SpectrogramDiscrepancy``.
public struct SpectrogramTolerance: Sendable {
    /// Cells within this many dB (amplitude) of the loudest cell are compared in the log domain.
    public var dynamicRangeDecibels: Double
    /// The log-domain tolerance for those cells.
    public var inRange: Tolerance
    /// Largest linear error of any cell, relative to the peak.
    public var linearRelativeToPeak: Double

    /// Log-mel against `torch.stft` + librosa: issue #2's nmse ≤ 1e-8 and max ≤ 1e-4 within
    /// 60 dB of the peak, and 1e-6 of the peak (−120 dB) everywhere.
    public static let logMel = SpectrogramTolerance(
        dynamicRangeDecibels: 60, inRange: Tolerance(nmse: 1e-8, maxAbs: 1e-4), linearRelativeToPeak: 1e-6)
}

/// Compares two natural-log magnitude spectrograms of equal shape (`expected` is the reference).
public func compareLogSpectrogram(_ actual: Tensor, _ expected: Tensor,
                                  dynamicRangeDecibels: Double) -> SpectrogramDiscrepancy {
    precondition(actual.shape == expected.shape, "compare: shape \(actual.shape) vs reference \(expected.shape)")
    let peak = expected.scalars.max() ?? 0
    let threshold = Double(peak) - dynamicRangeDecibels / 20 * log(10)
    var actualInRange: [Float] = [], expectedInRange: [Float] = []
    var linearError = 0.0
    for (a, e) in zip(actual.scalars, expected.scalars) {
        if Double(e) >= threshold {
            actualInRange.append(a)
            expectedInRange.append(e)
        }
        linearError = max(linearError, abs(exp(Double(a)) - exp(Double(e))))
    }
    return SpectrogramDiscrepancy(
        inRange: compare(actualInRange, expectedInRange),
        coveredFraction: Double(expectedInRange.count) / Double(max(1, expected.count)),
        linearRelativeToPeak: linearError / exp(Double(peak)))
}
