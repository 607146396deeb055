import AudioDSP
import Compute
import Foundation
import Models
import Weights

/// Log-mel spectrogram → waveform: the model folder's HiFi-GAN when it ships weights, otherwise
/// Griffin-Lim on the folder's mel parameters (what a model trained without a vocoder uses).
public enum Vocoder: Sendable {
    case hifiGAN(HiFiGANGenerator)
    case griffinLim(GriffinLim, MelInversion)

    /// The vocoder of a `vocoder/` folder: HiFi-GAN if `vocoder.pt`/`vocoder.safetensors` exists.
    public init(folder: URL, parameters: MelParameters) throws {
        if ModelFolder.firstFile(named: HiFiGANGenerator.weightFileNames, in: folder) != nil {
            self = .hifiGAN(try HiFiGANGenerator(directory: folder))
        } else {
            self = .griffinLim(GriffinLim(parameters: parameters),
                               try MelInversion(filterbank: MelFilterbank.make(parameters)))
        }
    }

    /// The waveform of a `[mels, frames]` log-mel spectrogram: `frames · hop` samples, within
    /// [−1, 1] for HiFi-GAN (its last layer is tanh), unbounded for Griffin-Lim — clipping them
    /// here would clip silently; the output stage (`PeakGuard`) scales what would clip, and says so.
    /// Griffin-Lim works block by block on a long log-mel (``GriffinLim/reconstruct(frameCount:magnitudes:progress:)``).
    /// - Parameter progress: Griffin-Lim's (iterations done, total) after each iteration; `false` stops.
    /// - Throws: ``AnalysisError/wrongShape(expected:actual:)`` unless `logMel` is `[mels, frames]`
    ///   with this vocoder's band count and at least one frame; the network's errors;
    ///   `CancellationError` when `progress` returns `false`.
    public func waveform(logMel: Tensor, progress: (Int, Int) -> Bool = { _, _ in true }) throws -> [Float] {
        let bands = switch self {
        case .hifiGAN(let generator): generator.configuration.melBinCount
        case .griffinLim(_, let inversion): inversion.melBinCount
        }
        guard logMel.rank == 2, logMel.shape[0] == bands, logMel.shape[1] > 0 else {
            throw AnalysisError.wrongShape(expected: "(\(bands), frames)", actual: logMel.shape)
        }
        switch self {
        case .hifiGAN(let generator):
            return try generator(logMel.reshaped([1, logMel.shape[0], logMel.shape[1]])).scalars
        case .griffinLim(let griffinLim, let inversion):
            return try griffinLim.reconstruct(frameCount: logMel.shape[1], magnitudes: { frames in
                inversion.magnitudes(fromLogMel: logMel.sliced(axis: 1, frames))
            }, progress: progress)
        }
    }

    /// The vocoder for a saved `logMel` (`[mels, frames]`, as `auffusion spectrogram --mel-npy` or
    /// `--save-mel` write it) and the mel parameters it was analysed with: `model`'s vocoder and
    /// parameters when a folder is given; otherwise Griffin-Lim (`iterations` of them) on the
    /// parameters whose band count matches, Auffusion's 256 bands or the embedded model's.
    /// - Throws: ``AnalysisError`` for a tensor of the wrong shape or with NaN or infinity;
    ///   ``PipelineError/invalidValue(field:reason:)`` for fewer than one iteration; model folder errors.
    public static func resynthesis(of logMel: Tensor, model: URL?,
                                   iterations: Int) throws -> (vocoder: Vocoder, parameters: MelParameters) {
        guard iterations >= 1 else { throw PipelineError.invalidValue(field: "iterations", reason: "must be at least 1, got \(iterations)") }
        var parameters = MelParameters()
        var vocoder: Vocoder?
        if let model {
            let directory = try ModelDirectory(model)
            parameters = try ModelFolder.configuration(MelParameters.self, in: directory.vocoder)
            vocoder = try Vocoder(folder: directory.vocoder, parameters: parameters)
        } else if logMel.rank == 2, logMel.shape[0] != parameters.melBinCount {
            let embedded = try ModelFolder.configuration(MelParameters.self, in: ModelDirectory(EmbeddedModel.defaultFolder()).vocoder)
            if embedded.melBinCount == logMel.shape[0] { parameters = embedded }
        }
        guard logMel.rank == 2, logMel.shape[0] == parameters.melBinCount, logMel.shape[1] > 0 else {
            throw AnalysisError.wrongShape(expected: "(\(parameters.melBinCount), frames)", actual: logMel.shape)
        }
        guard logMel.scalars.allSatisfy(\.isFinite) else { throw AnalysisError.nonFiniteValues }
        if case .hifiGAN = vocoder, let vocoder { return (vocoder, parameters) }
        return (.griffinLim(GriffinLim(parameters: parameters, iterations: iterations),
                            try MelInversion(filterbank: MelFilterbank.make(parameters))), parameters)
    }
}
