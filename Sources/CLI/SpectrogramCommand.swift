import ArgumentParser
import Foundation
import Toolkit

/// `auffusion spectrogram`: analyse a clip into the Auffusion log-mel and draw it.
struct SpectrogramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spectrogram",
        abstract: "Analyse an audio file into the Auffusion log-mel spectrogram and draw it.",
        discussion: """
        The clip is mixed to mono, resampled to 16 kHz and peak-normalised as the Auffusion \
        reference does. MEL.npy is the log-mel as float32 of shape (256, frames), low frequencies \
        first; IMG.npy is the [0, 1] spectrogram image (256, frames), highest band first.
        """
    )

    @Argument(help: "Input audio file (WAV, FLAC, OGG, AIFF, … at any sample rate).")
    var input: String

    @Option(name: .shortAndLong, help: "Output PNG picture (default: the input's name with .png).")
    var output: String?

    @Option(name: .customLong("mel-npy"), help: "Also write the log-mel spectrogram as .npy.")
    var melNpy: String?

    @Option(name: .customLong("image-npy"), help: "Also write the [0, 1] spectrogram image as .npy.")
    var imageNpy: String?

    @Flag(name: .customLong("time-axis"), help: "Draw a time axis in seconds under the picture.")
    var timeAxis = false

    @OptionGroup var report: ReportOptions

    func run() throws {
        let inputURL = URL(fileURLWithPath: input)
        var analysis = SpectrogramAnalysis(input: inputURL, picture: URL(fileURLWithPath: output ?? inputURL.deletingPathExtension().path + ".png"))
        (analysis.mel, analysis.image) = (melNpy.map(URL.init(fileURLWithPath:)), imageNpy.map(URL.init(fileURLWithPath:)))
        analysis.timeAxis = timeAxis
        try analysis(started: report.started).emit(report)
    }
}
