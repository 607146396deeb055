import ArgumentParser
import AudioDSP
import Compute
import FileOutput
import Foundation
import Pictures
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
        let pictureURL = URL(fileURLWithPath: output ?? inputURL.deletingPathExtension().path + ".png")
        let outputs = [pictureURL] + [melNpy, imageNpy].compactMap { $0.map(URL.init(fileURLWithPath:)) }
        for url in outputs { try AtomicFile.ensure(url, isNotOneOf: [inputURL]) }

        let buffer = try AudioFile.read(inputURL)
        guard buffer.peak > 0 else { throw CLIError("\(input) is silent (every sample is zero); nothing to analyse") }
        let analyzer = try MelAnalyzer(MelParameters())
        let logMel = try analyzer.logMel(of: buffer)
        let image = SpectrogramImage(logMel: logMel)
        try SpectrogramPicture.render(image, timeAxis: timeAxis).writePNG(to: pictureURL)
        if let melNpy { try NumPyFile.write(logMel, to: URL(fileURLWithPath: melNpy)) }
        if let imageNpy { try NumPyFile.write(image.pixels, to: URL(fileURLWithPath: imageNpy)) }
        var record = RunRecord(command: "spectrogram", elapsed: report.elapsed, input: inputURL)
        record.outputs.spectrogram = pictureURL.standardizedFileURL.path
        record.outputs.mel = melNpy.map { URL(fileURLWithPath: $0).standardizedFileURL.path }
        (record.sampleRate, record.seconds) = (buffer.sampleRate, buffer.duration)
        if let imageNpy { record.details = ["image": .string(URL(fileURLWithPath: imageNpy).standardizedFileURL.path)] }
        try record.emit(report)
    }
}
