import Compute
import Foundation

/// The Auffusion log-mel analysis: audio samples → natural-log mel spectrogram.
///
/// Port of Auffusion `converter.py` `get_mel_spectrogram_from_audio` + `mel_spectrogram`
/// (HiFi-GAN's `meldataset.py`), which the model was trained on:
/// 1. peak normalisation `y ← 0.95 · y / max|y|` (librosa `util.normalize`; a silent clip is
///    left unchanged), in double precision, then float32;
/// 2. reflect padding by `(n_fft − hop) / 2` on each side (torch `mode='reflect'`);
/// 3. `torch.stft(center=False)` with a periodic Hann of `win_size` centred in `n_fft`;
/// 4. `|X| = sqrt(re² + im² + 1e-9)`;
/// 5. `mel = filterbank · |X|` (librosa Slaney filterbank, float32 GEMM);
/// 6. `S = ln(max(mel, 1e-5))`.
///
/// ```swift
/// let analysis = try MelAnalyzer(MelParameters())
/// let logMel = try analysis.logMel(of: samples)   // [256, frames]
/// ```
public struct MelAnalyzer: Sendable {
    /// The analysis parameters.
    public let parameters: MelParameters
    /// The `[mels, bins]` filterbank.
    public let filterbank: Tensor
    /// Magnitude floor inside the square root (`1e-9` in the reference).
    public static let magnitudeEpsilon: Float = 1e-9
    /// Mel floor before the logarithm (`clip_val = 1e-5` in the reference).
    public static let melFloor: Float = 1e-5

    private let transform: ShortTimeFourierTransform
    /// Frames transformed at once (``logMel(of:normalizePeak:)``): 40.96 s at Auffusion's 100
    /// frames per second.
    public var chunkFrames = 4096

    /// Creates an analyser; the filterbank and FFT plan are built once here.
    /// - Throws: ``AnalysisError/invalidParameters(_:)``.
    public init(_ parameters: MelParameters) throws {
        try parameters.validate()
        self.parameters = parameters
        filterbank = MelFilterbank.make(parameters)
        transform = ShortTimeFourierTransform(parameters)
    }

    /// Peak normalisation to 0.95 of full scale, as the reference applies before analysis.
    /// A clip whose peak is below the smallest normal double is returned unchanged.
    public static func peakNormalized(_ samples: [Float]) -> [Float] {
        let peak = samples.reduce(0.0) { max($0, abs(Double($1))) }
        guard peak >= Double.leastNormalMagnitude else { return samples }
        return samples.map { Float(Double($0) / peak * 0.95) }
    }

    /// Mirror-pads `samples` by `padding` on each side excluding the edge sample, as
    /// `torch.nn.functional.pad(mode='reflect')`.
    /// - Precondition: `samples.count > padding`.
    public static func reflectPadded(_ samples: [Float], padding: Int) -> [Float] {
        precondition(samples.count > padding, "reflectPadded: signal shorter than the padding")
        let count = samples.count
        var padded = [Float](repeating: 0, count: count + 2 * padding)
        for index in 0..<padding {
            padded[index] = samples[padding - index]
            padded[padding + count + index] = samples[count - 2 - index]
        }
        padded.replaceSubrange(padding..<padding + count, with: samples)
        return padded
    }

    /// The log-mel spectrogram of a mono clip at ``MelParameters/sampleRate``.
    ///
    /// - Parameters:
    ///   - samples: mono samples in [−1, 1].
    ///   - normalizePeak: apply the reference's peak normalisation first (default `true`).
    /// - Returns: `[melBinCount, frames]`, low frequencies first, `frames = ⌊L / hop⌋` for the
    ///   Auffusion parameters.
    /// - Throws: ``AnalysisError/clipTooShort(sampleCount:minimum:sampleRate:)``, ``AnalysisError/nonFiniteSamples``.
    ///
    /// A clip longer than ``chunkFrames`` frames is transformed that many frames at a time (each
    /// chunk reads the samples its frames cover, reflected at the clip's ends as the whole would
    /// be), so the spectra of a long recording never sit in memory at once; the values are the same.
    public func logMel(of samples: [Float], normalizePeak: Bool = true) throws -> Tensor {
        let padding = parameters.padding
        guard samples.count > padding, parameters.frameCount(forSampleCount: samples.count) > 0 else {
            throw AnalysisError.clipTooShort(sampleCount: samples.count, minimum: max(padding, parameters.fftSize - 2 * padding - 1),
                                             sampleRate: parameters.sampleRate)
        }
        guard samples.allSatisfy(\.isFinite) else { throw AnalysisError.nonFiniteSamples }
        let input = normalizePeak ? Self.peakNormalized(samples) : samples
        let frames = transform.frameCount(signalLength: input.count + 2 * padding)
        let chunkFrames = max(1, chunkFrames)
        guard frames > chunkFrames else {
            return Tensor(shape: [parameters.melBinCount, frames], scalars: logMel(ofPadded: Self.reflectPadded(input, padding: padding)))
        }
        let (hop, count) = (parameters.hopLength, input.count)
        var mel = [Float](repeating: 0, count: parameters.melBinCount * frames)
        for first in stride(from: 0, to: frames, by: chunkFrames) {
            let last = min(first + chunkFrames, frames)
            let chunk = (first * hop..<((last - 1) * hop + parameters.fftSize)).map { index -> Float in
                let sample = index - padding
                return input[sample < 0 ? -sample : sample >= count ? 2 * count - 2 - sample : sample]
            }
            let part = logMel(ofPadded: chunk)
            for row in 0..<parameters.melBinCount {
                mel.replaceSubrange((row * frames + first)..<(row * frames + last),
                                    with: part[(row * (last - first))..<((row + 1) * (last - first))])
            }
        }
        return Tensor(shape: [parameters.melBinCount, frames], scalars: mel)
    }


    /// `[mels, frames]` log-mel values of an already padded signal.
    private func logMel(ofPadded padded: [Float]) -> [Float] {
        let magnitudes = transform.magnitudes(of: padded, epsilon: Self.magnitudeEpsilon)
        var mel = melProjection(magnitudes, frames: magnitudes.count / parameters.frequencyBinCount)
        let floor = Self.melFloor
        mel.withUnsafeMutableBufferPointer { values in
            for index in values.indices { values[index] = Foundation.log(max(values[index], floor)) }
        }
        return mel
    }

    /// `filterbank [mels, bins] · magnitudesᵀ [bins, frames]` → `[mels, frames]`.
    private func melProjection(_ magnitudes: [Float], frames: Int) -> [Float] {
        let mels = parameters.melBinCount, bins = parameters.frequencyBinCount
        var mel = [Float](repeating: 0, count: mels * frames)
        filterbank.scalars.withUnsafeBufferPointer { basis in
            magnitudes.withUnsafeBufferPointer { spectra in
                mel.withUnsafeMutableBufferPointer { output in
                    BLAS.sgemm(transposeB: true, m: mels, n: frames, k: bins,
                               a: basis, lda: bins, b: spectra, ldb: bins, c: output, ldc: frames)
                }
            }
        }
        return mel
    }
}
