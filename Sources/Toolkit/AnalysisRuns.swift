import AudioDSP
import Compute
import FileOutput
import Foundation
import Models
import Pictures
import Pipeline
import Weights

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

    /// Checks the outputs as ``RunOutputs`` does, analyses, writes the files and returns the record.
    /// - Throws: ``OutputError`` and ``AtomicFile``'s errors before any work; ``AnalysisError``.
    ///   A silent file is analysed like any other: its picture is the floor everywhere.
    public func callAsFunction(started: Date) throws -> RunRecord {
        _ = try RunOutputs(spectrogram: picture, mel: mel, image: image, inputs: [input])
        let buffer = try AudioFile.read(input)
        let logMel = try MelAnalyzer(MelParameters()).logMel(of: buffer)
        let pixels = SpectrogramImage(logMel: logMel)
        try SpectrogramPicture.render(pixels, timeAxis: timeAxis).writePNG(to: picture)
        if let mel { try NumPyFile.write(logMel, to: mel) }
        if let image { try NumPyFile.write(pixels.pixels, to: image) }
        var record = RunRecord(command: "spectrogram", elapsed: Date().timeIntervalSince(started), input: input)
        record.outputs.spectrogram = picture.standardizedFileURL.path
        record.outputs.mel = mel?.standardizedFileURL.path
        record.outputs.image = image?.standardizedFileURL.path
        (record.sampleRate, record.seconds) = (buffer.sampleRate, buffer.duration)
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
    /// - Parameter progress: Griffin-Lim's iterations done and their total; `false` stops.
    public func callAsFunction(logMel url: URL, outputs: RunOutputs, started: Date, progress: (Int, Int) -> Bool = { _, _ in true },
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

/// How a model's tokenizer splits a prompt, as `auffusion tokens` shows it: each token's id and
/// text, and the word → token positions that edits address words by.
public struct TokenListing: Sendable {
    public let prompt: String
    public let ids: [Int]
    public let tokens: [String]
    public let words: [PromptWord]
    /// Tokens past the text encoder's 77 that were dropped.
    public let droppedTokenCount: Int

    /// Tokenizes `prompt` with the tokenizer of the model folder at `model`.
    /// - Throws: a folder or tokenizer-file error; ``CLIPTokenizer/validate(prompt:)``'s for an unusable prompt.
    public init(prompt: String, model: URL) throws {
        let tokenizer = try TextConditioner.tokenizer(for: try ModelDirectory(model).text)
        try CLIPTokenizer.validate(prompt: prompt)
        let encoded = tokenizer.encode(prompt, padding: .none)
        self.prompt = prompt
        (ids, droppedTokenCount) = (encoded.ids, encoded.droppedTokenCount)
        tokens = encoded.ids.map { tokenizer.decode([$0]) }
        words = tokenizer.words(in: prompt)
    }

    /// The listing as text: one line per token (position, id, text), then one per word.
    public var lines: [String] {
        zip(ids, tokens).enumerated().map { String(format: "%3d  %6d  %@", $0.offset, $0.element.0, $0.element.1) }
            + words.map { "\($0.text): \($0.tokenPositions.map(String.init).joined(separator: " "))" }
    }

    /// The record of the listing (docs/cli.md): ids, tokens and words in its details.
    public func record(started: Date) -> RunRecord {
        var record = RunRecord(command: "tokens", elapsed: Date().timeIntervalSince(started))
        record.prompt = prompt
        record.droppedTokens = droppedTokenCount
        record.details = [
            "ids": .array(ids.map { .number(Double($0)) }), "tokens": .array(tokens.map(JSONValue.string)),
            "words": .array(words.map { .object(["word": .string($0.text), "tokens": .array($0.tokenPositions.map { .number(Double($0)) })]) }),
        ]
        return record
    }
}
