import Compute
import Foundation

/// Maps a log-mel spectrogram back to a non-negative linear magnitude spectrogram with the
/// Moore–Penrose pseudo-inverse of the filterbank: `|X| ≈ max(0, M⁺ · exp(S))`.
///
/// The filterbank `M` (`mels × bins`, mels < bins, full row rank) has `M⁺ = Mᵀ (M Mᵀ)⁻¹`; it is
/// computed once in double precision with a Cholesky factorisation of `M Mᵀ` and agrees with
/// `numpy.linalg.pinv` to float rounding.
public struct MelInversion: Sendable {
    /// `[bins, mels]` pseudo-inverse of the filterbank.
    public let pseudoInverse: Tensor
    /// The mel bands a log-mel must have.
    public let melBinCount: Int
    private let frequencyBinCount: Int

    /// Builds the pseudo-inverse of `filterbank` (`[mels, bins]`).
    /// - Throws: ``AnalysisError/invalidParameters(_:)`` when the filterbank is rank-deficient
    ///   (an empty mel band).
    public init(filterbank: Tensor) throws {
        let mels = filterbank.shape[0], bins = filterbank.shape[1]
        let m = filterbank.scalars.map(Double.init)
        // Gram matrix G = M Mᵀ (mels × mels), symmetric positive definite for full row rank.
        var gram = [Double](repeating: 0, count: mels * mels)
        for i in 0..<mels {
            for j in 0...i {
                var sum = 0.0
                for k in 0..<bins { sum += m[i * bins + k] * m[j * bins + k] }
                gram[i * mels + j] = sum
                gram[j * mels + i] = sum
            }
        }
        let lower = try Self.cholesky(gram, size: mels)
        // Solve G X = M for X (mels × bins); then M⁺ = Xᵀ.
        var inverse = [Float](repeating: 0, count: bins * mels)
        var column = [Double](repeating: 0, count: mels)
        for k in 0..<bins {
            for i in 0..<mels { column[i] = m[i * bins + k] }
            Self.solve(lower, size: mels, &column)
            for i in 0..<mels { inverse[k * mels + i] = Float(column[i]) }
        }
        pseudoInverse = Tensor(shape: [bins, mels], scalars: inverse)
        melBinCount = mels
        frequencyBinCount = bins
    }

    /// The linear magnitudes `max(0, M⁺ · exp(S))` of a `[mels, frames]` log-mel spectrogram.
    /// - Returns: `frames × bins` magnitudes, frame-major (the layout of ``ComplexSpectrogram``).
    public func magnitudes(fromLogMel logMel: Tensor) -> [Float] {
        precondition(logMel.rank == 2 && logMel.shape[0] == melBinCount, "MelInversion: expected [\(melBinCount), frames]")
        let frames = logMel.shape[1], mels = melBinCount, bins = frequencyBinCount
        let mel = logMel.scalars.map { Foundation.exp($0) }
        var output = [Float](repeating: 0, count: frames * bins)
        // output [frames, bins] = melᵀ [frames, mels] · M⁺ᵀ [mels, bins]
        mel.withUnsafeBufferPointer { melValues in
            pseudoInverse.scalars.withUnsafeBufferPointer { pinv in
                output.withUnsafeMutableBufferPointer { result in
                    BLAS.sgemm(transposeA: true, transposeB: true, m: frames, n: bins, k: mels,
                               a: melValues, lda: frames, b: pinv, ldb: mels, c: result, ldc: bins)
                }
            }
        }
        for index in output.indices where output[index] < 0 { output[index] = 0 }
        return output
    }

    /// Lower-triangular `L` with `L Lᵀ = a`.
    private static func cholesky(_ a: [Double], size n: Int) throws -> [Double] {
        var l = [Double](repeating: 0, count: n * n)
        for j in 0..<n {
            var diagonal = a[j * n + j]
            for k in 0..<j { diagonal -= l[j * n + k] * l[j * n + k] }
            guard diagonal > 0 else {
                throw AnalysisError.invalidParameters("mel band \(j) is empty; use fewer mel bins or a longer FFT")
            }
            let pivot = diagonal.squareRoot()
            l[j * n + j] = pivot
            for i in (j + 1)..<n {
                var sum = a[i * n + j]
                for k in 0..<j { sum -= l[i * n + k] * l[j * n + k] }
                l[i * n + j] = sum / pivot
            }
        }
        return l
    }

    /// Solves `L Lᵀ x = b` in place.
    private static func solve(_ l: [Double], size n: Int, _ b: inout [Double]) {
        for i in 0..<n {
            var sum = b[i]
            for k in 0..<i { sum -= l[i * n + k] * b[k] }
            b[i] = sum / l[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            var sum = b[i]
            for k in (i + 1)..<n { sum -= l[k * n + i] * b[k] }
            b[i] = sum / l[i * n + i]
        }
    }
}
