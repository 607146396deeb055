import ArgumentParser
import AudioDSP
import Compute
import FileOutput
import Foundation
import Models
import Pipeline
import Weights

/// `auffusion vocode`: turn a log-mel spectrogram back into audio.
struct VocodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vocode",
        abstract: "Resynthesise audio from a log-mel spectrogram (.npy, shape (256, frames)).",
        discussion: """
        With --model, the folder's HiFi-GAN vocoder (and its mel parameters); otherwise \
        Griffin-Lim phase reconstruction, which needs no weights.
        """
    )

    @Argument(help: "Log-mel spectrogram as written by `auffusion spectrogram --mel-npy`.")
    var input: String

    @Option(name: .shortAndLong, help: "Output audio file; the format follows the extension (.wav, .flac, .ogg, .aiff).")
    var output: String

    @Option(help: "Griffin-Lim iterations.")
    var iterations = 32

    @Option(name: .customLong("model"), help: "A model folder whose vocoder/ to use (default: Griffin-Lim, with the mel parameters the spectrogram's band count names: 256 for `auffusion spectrogram`, the embedded model's for its --save-mel).")
    var model: String?

    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard iterations >= 1, iterations <= 10_000 else { throw ValidationError("--iterations must be in 1...10000") }
    }

    func run() throws {
        let inputURL = URL(fileURLWithPath: input), outputURL = URL(fileURLWithPath: output)
        guard AudioContainer(path: outputURL) != nil else { throw AudioFileError.unsupportedExtension(path: output) }
        try AtomicFile.ensure(outputURL, isNotOneOf: [inputURL])
        let logMel = try NumPyFile.read(inputURL)
        var parameters = MelParameters()
        var vocoder: Vocoder?
        if let model {
            let directory = try ModelDirectory(URL(fileURLWithPath: model))
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
        let samples: [Float]
        if case .hifiGAN = vocoder, let vocoder {
            samples = try vocoder.waveform(logMel: logMel)
        } else {
            let inversion = try MelInversion(filterbank: MelFilterbank.make(parameters))
            let progress = report.progress()
            samples = GriffinLim(parameters: parameters, iterations: iterations)
                .reconstruct(magnitudes: inversion.magnitudes(fromLogMel: logMel), frameCount: logMel.shape[1]) { done, total in
                    progress.show("griffin-lim \(done)/\(total)", done: done, of: total)
                }
            progress.finish()
        }
        let peak = samples.reduce(0) { max($0, abs($1)) }
        let normalized = peak > 0.95 ? samples.map { $0 * 0.95 / peak } : samples
        try AudioFile.write(AudioBuffer(mono: normalized, sampleRate: Double(parameters.sampleRate)),
                            to: outputURL, protecting: [inputURL])
        try RunRecord(command: "vocode", request: nil, sampling: nil, result: nil,
                      outputs: RunRecord.Files(audio: outputURL.standardizedFileURL.path), report: report, input: inputURL).emit(report)
    }
}
