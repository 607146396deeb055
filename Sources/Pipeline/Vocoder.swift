import AudioDSP
import Compute
import Foundation
import Models

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
    public func waveform(logMel: Tensor) throws -> [Float] {
        switch self {
        case .hifiGAN(let generator):
            return try generator(logMel.reshaped([1, logMel.shape[0], logMel.shape[1]])).scalars
        case .griffinLim(let griffinLim, let inversion):
            return griffinLim.reconstruct(magnitudes: inversion.magnitudes(fromLogMel: logMel), frameCount: logMel.shape[1])
        }
    }
}
