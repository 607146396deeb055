import AudioDSP
import Compute
import FileOutput
import Foundation
import Pictures
import Pipeline

/// A clip analysed into the Auffusion log-mel and drawn, as `auffusion spectrogram` and the server
/// make it: mixed to mono, resampled to 16 kHz and peak-normalised as the reference does.
public struct SpectrogramAnalysis: Sendable {
    public var input: URL
    /// The PNG picture.
    public var picture: URL
    /// Also the log-mel (256 × frames, low frequencies first) and the [0, 1] image (highest band
    /// first), as `.npy`.
    public var mel: URL?, image: URL?
    /// Draw a time axis in seconds under the picture.
    public var timeAxis = false

    public init(input: URL, picture: URL) {
        self.input = input
        self.picture = picture
    }

    /// Analyses, writes the files and returns the record.
    /// - Throws: ``AnalysisError/silent(path:)``; an error of ``AtomicFile`` for an output that is the input.
    public func callAsFunction(started: Date) throws -> RunRecord {
        for url in [picture] + [mel, image].compactMap({ $0 }) { try AtomicFile.ensure(url, isNotOneOf: [input]) }
        let buffer = try AudioFile.read(input)
        guard buffer.peak > 0 else { throw AnalysisError.silent(path: input.relativePath) }
        let logMel = try MelAnalyzer(MelParameters()).logMel(of: buffer)
        let pixels = SpectrogramImage(logMel: logMel)
        try SpectrogramPicture.render(pixels, timeAxis: timeAxis).writePNG(to: picture)
        if let mel { try NumPyFile.write(logMel, to: mel) }
        if let image { try NumPyFile.write(pixels.pixels, to: image) }
        var record = RunRecord(command: "spectrogram", elapsed: Date().timeIntervalSince(started), input: input)
        record.outputs.spectrogram = picture.standardizedFileURL.path
        record.outputs.mel = mel?.standardizedFileURL.path
        (record.sampleRate, record.seconds) = (buffer.sampleRate, buffer.duration)
        if let image { record.details = ["image": .string(image.standardizedFileURL.path)] }
        return record
    }
}

/// A log-mel spectrogram turned back into audio, as `auffusion vocode` does: with a model
/// folder's HiFi-GAN, or Griffin-Lim with the mel parameters its band count names (``Vocoder/resynthesis(of:model:iterations:)``).
public struct Resynthesis: Sendable {
    /// A model folder whose vocoder to use; `nil`: Griffin-Lim.
    public var model: URL?
    public var iterations: Int

    public init(model: URL?, iterations: Int = 32) {
        self.model = model
        self.iterations = iterations
    }

    /// Resynthesises the log-mel stored at `logMel` (`.npy`), writes `outputs.audio` through the
    /// peak guard and returns the record.
    /// - Parameter progress: Griffin-Lim's iterations done and their total.
    public func callAsFunction(logMel url: URL, outputs: RunOutputs, started: Date, progress: (Int, Int) -> Void = { _, _ in },
                               warn: (String) -> Void) throws -> RunRecord {
        let logMel = try NumPyFile.read(url)
        let (vocoder, parameters) = try Vocoder.resynthesis(of: logMel, model: model, iterations: iterations)
        let audio = AudioBuffer(mono: try vocoder.waveform(logMel: logMel, progress: progress), sampleRate: Double(parameters.sampleRate))
        var files = RunRecord.Files(audio: outputs.audio?.path)
        if let output = outputs.audio { files.peakGainDecibels = try outputs.writeAudio(audio, to: output, warn: warn) }
        var record = RunRecord(command: "vocode", outputs: files, elapsed: Date().timeIntervalSince(started), input: url)
        (record.sampleRate, record.seconds) = (audio.sampleRate, audio.duration)
        return record
    }
}
