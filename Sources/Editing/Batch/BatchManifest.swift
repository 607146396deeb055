import FileOutput
import Foundation
import Pipeline

/// What a batch's manifest says of one task: one JSON line, appended and flushed as the task
/// ends (docs/batch.md gives the schema). `--json` prints the same lines on stdout, plus
/// `skipped` ones, which the manifest does not repeat.
public struct BatchManifestEntry: Encodable, Sendable {
    public enum Status: String, Codable, Sendable { case done, failed, skipped }

    /// The line's 0-based number in the batch file.
    public var line: Int
    /// The take's 0-based number.
    public var take: Int
    public var status: Status
    /// The shard that ran it, `K/N`.
    public var shard: String
    public var prompt: String?
    public var seed: UInt64?
    public var settings: BatchSettings?
    /// ``InversionFingerprint/model(at:)`` of the model folder.
    public var model: String?
    /// The input clip (absolute), for edits.
    public var input: String?
    /// The output file (absolute).
    public var output: String?
    /// Seconds of audio written.
    public var duration: Double?
    /// Seconds the task took.
    public var elapsed: Double?
    /// The gain the peak guard applied, dB (0: none).
    public var peakGainDecibels: Double?
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case line, take, status, shard, prompt, seed, settings, model, input, output, error
        case duration = "duration_s", elapsed = "elapsed_s", peakGainDecibels = "peak_gain_db"
    }

    /// The entry as one JSON line (sorted keys).
    public var jsonLine: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// The settings a task ran with, as its manifest entry records them.
public enum BatchSettings: Encodable, Sendable {
    case generation(GenerationSettings)
    case edit(EditSettings)

    public func encode(to encoder: any Encoder) throws {
        switch self {
        case .generation(let settings): try settings.encode(to: encoder)
        case .edit(let settings): try settings.encode(to: encoder)
        }
    }
}

/// A generation's settings: the request less its prompt.
public struct GenerationSettings: Codable, Sendable, Equatable {
    public var negative: String?
    public var steps: Int
    public var guidance: Float
    public var guidanceRescale: Float
    /// `nil`: the model folder's own.
    public var scheduler: String?
    /// The requested length, seconds; `nil`: the model's default.
    public var duration: Double?
    public var unconditional: Bool

    enum CodingKeys: String, CodingKey {
        case negative, steps, guidance, scheduler, duration, unconditional
        case guidanceRescale = "guidance_rescale"
    }

    public init(_ request: GenerationRequest) {
        negative = request.negativePrompt
        steps = request.stepCount
        guidance = request.guidanceScale
        guidanceRescale = request.guidanceRescale
        scheduler = request.scheduler?.name
        duration = request.duration
        unconditional = request.unconditional
    }
}

/// An edit's settings: the plan and the finishing options.
public struct EditSettings: Codable, Sendable, Equatable {
    public var plan: EditPlanDocument
    public var crossfadeMilliseconds: Double
    public var raw: Bool
    public var samplePosterior: Bool

    enum CodingKeys: String, CodingKey {
        case plan, raw
        case crossfadeMilliseconds = "crossfade_ms", samplePosterior = "sample_posterior"
    }
}

/// The manifests of an output folder: `manifest.jsonl` for a run of the whole batch,
/// `manifest-K-of-N.jsonl` for shard K/N, so that the tasks of a job array never share a file.
public enum BatchManifest {
    /// The manifest file of `shard` in `folder`.
    public static func url(in folder: OutputFolder, shard: Shard) -> URL {
        folder.url.appendingPathComponent(shard == .all ? "manifest.jsonl" : "manifest-\(shard.index)-of-\(shard.count).jsonl")
    }

    /// The outputs that a manifest in `folder` records as done and that exist: what
    /// `--skip-existing` does not redo. Outputs are written atomically and recorded after, so
    /// such a file is whole; one written but not yet recorded when the run was killed is redone.
    /// A line that does not parse (a run killed while writing it) counts for nothing.
    public static func finishedOutputs(in folder: OutputFolder) -> Set<String> {
        struct Entry: Decodable {
            var output: String?
            var status: BatchManifestEntry.Status
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.url.path)) ?? [])
            .filter { $0.hasPrefix("manifest") && $0.hasSuffix(".jsonl") }
        var done: Set<String> = []
        for name in names {
            guard let text = try? String(contentsOf: folder.url.appendingPathComponent(name), encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(line.utf8)), entry.status == .done,
                      let output = entry.output else { continue }
                done.insert(output)
            }
        }
        return done.filter { FileManager.default.fileExists(atPath: $0) }
    }
}
