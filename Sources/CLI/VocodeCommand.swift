import ArgumentParser
import AudioDSP
import Compute
import Foundation
import Models
import Pipeline
import Toolkit

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
    @OptionGroup var peaks: PeakOptions

    func validate() throws {
        guard iterations >= 1, iterations <= 10_000 else { throw ValidationError("--iterations must be in 1...10000") }
    }

    func run() throws {
        let inputURL = URL(fileURLWithPath: input)
        let outputs = try RunOutputs(audio: output, inputs: [inputURL], peaks: peaks)
        let logMel = try NumPyFile.read(inputURL)
        let (vocoder, parameters) = try Vocoder.resynthesis(of: logMel, model: model.map(URL.init(fileURLWithPath:)),
                                                            iterations: iterations)
        let progress = report.progress()
        let samples = try vocoder.waveform(logMel: logMel) { done, total in
            progress.show("griffin-lim \(done)/\(total)", done: done, of: total)
        }
        progress.finish()
        let audio = AudioBuffer(mono: samples, sampleRate: Double(parameters.sampleRate))
        var files = RunRecord.Files(audio: outputs.audio?.path)
        files.peakGainDecibels = try outputs.writeAudio(audio, to: URL(fileURLWithPath: output), warn: report.warn)
        var record = RunRecord(command: "vocode", request: nil, sampling: nil, result: nil, outputs: files, report: report,
                               input: inputURL)
        (record.sampleRate, record.seconds) = (audio.sampleRate, audio.duration)
        try record.emit(report)
    }
}
