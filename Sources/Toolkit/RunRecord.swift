import Foundation
import Pipeline

/// The one record of a run (docs/cli.md, "The --json record"): what ran, on what, with which
/// settings, what it wrote (absolute paths) and how long it took. Absent fields are omitted, so
/// every command, batch line and server job describes itself with the same keys.
public struct RunRecord: Codable, Sendable {
    /// The files a run wrote.
    public struct Files: Codable, Sendable {
        public var audio: String?
        public var sourceAudio: String?
        public var spectrogram: String?
        public var mel: String?
        public var image: String?
        public var latents: String?
        public var maps: String?
        public var inversion: String?
        /// The gain the peak guard applied to the audio and to the source prompt's, dB (0: none).
        public var peakGainDecibels: Double?, sourcePeakGainDecibels: Double?

        public init(audio: String? = nil) { self.audio = audio }

        enum CodingKeys: String, CodingKey {
            case audio, spectrogram, mel, image, latents, maps, inversion
            case sourceAudio = "source_audio", peakGainDecibels = "peak_gain_db", sourcePeakGainDecibels = "source_peak_gain_db"
        }
    }

    /// How long the run took.
    public struct Timings: Codable, Sendable {
        public var total: Double
        enum CodingKeys: String, CodingKey { case total = "total_s" }
    }

    public var command: String
    public var input: String?
    public var prompt: String?
    public var sourcePrompt: String?
    public var seed: UInt64?
    public var steps: Int?
    public var guidance: Float?
    /// The request's settings that change the output, when they are not the defaults: the
    /// negative prompt, the guidance rescale, the way windows of a long canvas are joined.
    public var negativePrompt: String?
    public var guidanceRescale: Float?
    public var windowJoin: String?
    public var scheduler: String?
    public var sampleRate: Double?
    public var seconds: Double?
    public var droppedTokens: Int?
    /// What is particular to the command: an edit's strength, mask ranges, passes, weights, a
    /// benchmark's times …
    public var details: [String: JSONValue]?
    public var outputs: Files
    public var timings: Timings

    enum CodingKeys: String, CodingKey {
        case command, input, prompt, seed, steps, guidance, scheduler, seconds, details, outputs, timings
        case sourcePrompt = "source_prompt", sampleRate = "sample_rate", droppedTokens = "dropped_tokens"
        case negativePrompt = "negative_prompt", guidanceRescale = "guidance_rescale", windowJoin = "window_join"
    }

    /// A record of `command`, which ran `request` from `seed` (when it denoised) on `input` and
    /// produced `result` into `outputs` in `elapsed` seconds. A request with approximations
    /// (``SpeedOptions``) says which in `details.speed`, as this machine ran them
    /// (``SpeedOptions/asRun``); ``addDetails(_:)`` keeps it.
    public init(command: String, request: GenerationRequest? = nil, seed: UInt64? = nil, result: GenerationResult? = nil,
                outputs: Files = Files(), elapsed: Double, input: URL? = nil) {
        self.command = command
        self.input = input?.standardizedFileURL.path
        prompt = request?.prompt
        self.seed = seed
        steps = request?.stepCount
        guidance = request?.guidanceScale
        negativePrompt = request?.negativePrompt
        guidanceRescale = request.flatMap { $0.guidanceRescale != 0 ? $0.guidanceRescale : nil }
        windowJoin = request.flatMap { $0.windowJoin != .crossfade ? $0.windowJoin.rawValue : nil }
        scheduler = request?.scheduler?.name
        sampleRate = result?.audio.sampleRate
        seconds = result?.audio.duration
        droppedTokens = result?.droppedTokenCount
        self.outputs = outputs
        timings = Timings(total: elapsed)
        if let speed = request?.speed.asRun, !speed.isExact, let value = try? JSONValue(speed) { details = ["speed": value] }
    }

    /// Adds `more` to ``details`` (a key given twice takes `more`'s value).
    public mutating func addDetails(_ more: [String: JSONValue]) {
        details = (details ?? [:]).merging(more) { $1 }
    }

    /// The record as one line of JSON, keys sorted.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// A JSON value, for the free-form part of a record.
public enum JSONValue: Codable, Sendable, Equatable {
    case number(Double), string(String), bool(Bool), array([JSONValue]), object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
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
