import Editing
import Foundation

/// One state of a clip: the upload (version 0), a generated sound, or the result of an edit of
/// an earlier version. An edit's history is its ``plan``: the `auffusion edit` plan that, run
/// with ``seed`` beside the parent's file, writes this version's file byte for byte.
public struct Version: Codable, Sendable, Equatable {
    /// Position in the clip's list, from 0.
    public var number: Int
    /// The version this one edited; `nil` for an upload or a generation.
    public var parent: Int?
    /// `upload`, or the edit's ``EditRequest/Kind``.
    public var kind: String
    /// The audio file's name inside the clip's folder.
    public var file: String
    /// The prompt of the edit (and its source prompt, for a swap or reweight).
    public var prompt: String?
    public var sourcePrompt: String?
    /// The edit plan (input: the parent's file, output: ``file``) and the seed it ran with.
    public var plan: EditPlanDocument?
    public var seed: UInt64?
    /// Seconds of audio, sample rate and channels of ``file``.
    public var seconds: Double
    public var sampleRate: Double
    public var channels: Int
    /// The per-word attention heatmaps of the run (file names in the version's map folder), in
    /// prompt order; empty when the edit stored no attention.
    public var maps: [AttentionMap] = []
    /// What the run had to say: a peak scaled down, a cut prompt.
    public var notes: [String] = []

    /// One word's heatmap.
    public struct AttentionMap: Codable, Sendable, Equatable {
        public var word: String
        public var picture: String
    }

    /// The command that replays this version from its parent's file, in the folder of both.
    public var replay: String?

    enum CodingKeys: String, CodingKey {
        case number, parent, kind, file, prompt, plan, seed, seconds, channels, maps, notes, replay
        case sourcePrompt = "source_prompt", sampleRate = "sample_rate"
    }
}

/// A clip as the API shows it: an id, the versions so far, the format its downloads take.
public struct ClipSummary: Codable, Sendable {
    public var id: String
    /// The name the upload had, for display only (never used as a path).
    public var name: String
    /// The container every version is written in (`wav`, `flac`, `ogg`, `aiff`): the upload's.
    public var format: String
    public var versions: [Version]
    /// Seconds of the model's canvas: a longer clip is edited whole, in overlapping windows of it.
    public var canvasSeconds: Double

    enum CodingKeys: String, CodingKey {
        case id, name, format, versions
        case canvasSeconds = "canvas_seconds"
    }
}
