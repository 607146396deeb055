import ArgumentParser
import Foundation
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
        var outputs = try RunOutputs(audio: URL(fileURLWithPath: output), inputs: [inputURL])
        outputs.guardsPeaks = peaks.peakGuard
        try report.emit { progress in
            try Resynthesis(model: model.map(URL.init(fileURLWithPath:)), iterations: iterations)(
                logMel: inputURL, outputs: outputs, started: report.started,
                progress: { done, total in progress.show("griffin-lim \(done)/\(total)", done: done, of: total, stage: "griffin-lim"); return true }, warn: progress.warn(report))
        }
    }
}
