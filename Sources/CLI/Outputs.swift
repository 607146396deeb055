import ArgumentParser
import AudioDSP
import Compute
import Editing
import FileOutput
import Foundation
import Pictures
import Pipeline

/// The files one command writes: checked together before any work (each names a folder that
/// exists, none is an input, no two are the same file, audio has a known extension), written
/// together after it, each atomically. The one place a command's outputs go through.
struct Outputs {
    var audio: URL?
    var sourceAudio: URL?
    var spectrogram: URL?
    var mel: URL?
    var latents: URL?
    /// A folder for per-word attention maps (created if missing).
    var maps: URL?
    /// Files read by the command, never to be overwritten.
    let inputs: [URL]
    /// Whether ``PeakGuard`` scales audio that would clip.
    var guardsPeaks = true

    init(audio: String?, sourceAudio: String? = nil, spectrogram: String? = nil, mel: String? = nil, latents: String? = nil,
         maps: String? = nil, inputs: [URL]) throws {
        func url(_ path: String?) -> URL? { path.map { URL(fileURLWithPath: $0).standardizedFileURL } }
        self.audio = url(audio)
        self.sourceAudio = url(sourceAudio)
        self.spectrogram = url(spectrogram)
        self.mel = url(mel)
        self.latents = url(latents)
        self.maps = url(maps)
        self.inputs = inputs
        try check()
    }

    private var files: [URL] { [audio, sourceAudio, spectrogram, mel, latents].compactMap { $0 } }

    private func check() throws {
        for url in [audio, sourceAudio].compactMap({ $0 }) where AudioContainer(path: url) == nil {
            throw AudioFileError.unsupportedExtension(path: url.path)
        }
        var seen: Set<String> = []
        for url in files {
            let path = url.resolvingSymlinksInPath().path
            guard seen.insert(path).inserted else { throw CLIError("\(url.path) is named as two outputs; give each output its own file") }
            try AtomicFile.ensure(url, isNotOneOf: inputs)
            let folder = url.deletingLastPathComponent()
            var isFolder: ObjCBool = false
            guard FileManager.default.fileExists(atPath: folder.path, isDirectory: &isFolder), isFolder.boolValue else {
                throw CLIError("cannot write \(url.path): the folder \(folder.path) does not exist")
            }
            guard FileManager.default.isWritableFile(atPath: folder.path) else {
                throw CLIError("cannot write \(url.path): the folder \(folder.path) is not writable")
            }
        }
    }

    /// Writes `result` (and the source prompt's audio) to the outputs that were asked for and
    /// returns their record.
    func write(_ result: GenerationResult, source: GenerationResult? = nil, report: ReportOptions) throws -> RunRecord.Files {
        var files = RunRecord.Files()
        if let audio {
            files.peakGainDecibels = try writeAudio(result.audio, to: audio, report: report)
            files.audio = audio.path
        }
        if let sourceAudio, let source {
            _ = try writeAudio(source.audio, to: sourceAudio, report: report)
            files.sourceAudio = sourceAudio.path
        }
        if let spectrogram {
            try SpectrogramPicture.render(result.image, timeAxis: true).writePNG(to: spectrogram)
            files.spectrogram = spectrogram.path
        }
        if let mel {
            try NumPyFile.write(result.logMel, to: mel)
            files.mel = mel.path
        }
        if let latents {
            try NumPyFile.write(result.latents, to: latents)
            files.latents = latents.path
        }
        return files
    }

    /// Writes `audio` through the peak guard; returns the gain it applied (dB).
    func writeAudio(_ audio: AudioBuffer, to url: URL, report: ReportOptions) throws -> Double {
        let (guarded, gain) = guardsPeaks ? PeakGuard().apply(to: audio) : (audio, 0)
        if gain < 0 {
            report.warn(String(format: "%@ would clip; scaled by %.2f dB to a peak of -0.1 dBFS (--no-peak-guard writes it as is)",
                               url.lastPathComponent, gain))
        }
        try AudioFile.write(guarded, to: url, protecting: inputs)
        return gain
    }
}

/// The one record every command prints with `--json` (docs/cli.md): what ran, on what, with
/// which settings, what it wrote (absolute paths) and how long it took. Absent fields are omitted.
struct RunRecord: Encodable {
    struct Files: Encodable {
        var audio: String?
        var sourceAudio: String?
        var spectrogram: String?
        var mel: String?
        var latents: String?
        var maps: String?
        /// The gain the peak guard applied to the audio, dB (0: none).
        var peakGainDecibels: Double?

        enum CodingKeys: String, CodingKey {
            case audio, spectrogram, mel, latents, maps
            case sourceAudio = "source_audio", peakGainDecibels = "peak_gain_db"
        }
    }

    struct Timings: Encodable {
        var total: Double
        enum CodingKeys: String, CodingKey { case total = "total_s" }
    }

    var command: String
    var input: String?
    var prompt: String?
    var sourcePrompt: String?
    var seed: UInt64?
    var steps: Int?
    var guidance: Float?
    var scheduler: String?
    var sampleRate: Double?
    var seconds: Double?
    var droppedTokens: Int?
    /// Edit settings: strength, mask ranges, passes, weights …
    var details: [String: JSONValue]?
    var outputs: Files
    var timings: Timings

    enum CodingKeys: String, CodingKey {
        case command, input, prompt, seed, steps, guidance, scheduler, seconds, details, outputs, timings
        case sourcePrompt = "source_prompt", sampleRate = "sample_rate", droppedTokens = "dropped_tokens"
    }

    /// A record of a run of `request` that produced `result`.
    init(command: String, request: GenerationRequest?, sampling: SamplingOptions?, result: GenerationResult?,
         outputs: Files, report: ReportOptions, input: URL? = nil) {
        self.command = command
        self.input = input?.standardizedFileURL.path
        prompt = request?.prompt
        seed = sampling.map(\.seedValue)
        steps = request?.stepCount
        guidance = request?.guidanceScale
        scheduler = request?.scheduler?.name
        sampleRate = result?.audio.sampleRate
        seconds = result?.audio.duration
        droppedTokens = result?.droppedTokenCount
        self.outputs = outputs
        timings = Timings(total: report.elapsed)
    }

    /// Prints the record on stdout when `--json` was given, and warns about a cut prompt.
    func emit(_ report: ReportOptions) throws {
        if let droppedTokens, droppedTokens > 0 {
            report.warn("the prompt is longer than 75 tokens; the last \(droppedTokens) were dropped")
        }
        guard report.json else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        print(String(decoding: try encoder.encode(self), as: UTF8.self))
    }
}

/// A JSON value for the free-form part of a record.
enum JSONValue: Encodable {
    case number(Double), string(String), bool(Bool), array([JSONValue]), object([String: JSONValue])

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// The peak-guard switch of every command that writes generated audio.
struct PeakOptions: ParsableArguments {
    @Flag(name: .customLong("peak-guard"), inversion: .prefixedNo,
          help: "Scale audio that would clip so its peak sits at -0.1 dBFS, and say so (default on).")
    var peakGuard = true
}
