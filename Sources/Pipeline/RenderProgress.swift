import Foundation

/// Where the work around the denoising loop is — encoding a clip, decoding latents, vocoding —
/// for progress reporting; the handler returns `false` to cancel (``PipelineError/cancelled``).
///
/// A clip longer than the canvas is encoded and decoded window by window (``LatentWindows``), and
/// each window takes seconds on a full-size model, so a ten-minute clip would otherwise sit silent
/// for minutes before its first step and after its last.
public struct RenderProgress: Sendable, Equatable {
    public enum Stage: String, Sendable {
        /// The VAE encoder, window by window.
        case encoding
        /// The VAE decoder, window by window.
        case decoding
        /// HiFi-GAN window by window, or Griffin-Lim iteration by iteration over its blocks.
        case vocoding
    }

    public var stage: Stage
    /// Units of ``stage`` done (windows, or Griffin-Lim's iterations), 1…``total``.
    public var done: Int
    public var total: Int

    public init(stage: Stage, done: Int, total: Int) {
        self.stage = stage
        self.done = done
        self.total = total
    }
}

/// The time left of work reported unit by unit (steps, or a stage's windows), for a progress
/// line or a job's status. Each kind of unit is timed by the seconds spent in that kind alone, so
/// the steps of a long clip's second span are not charged with the first span's rendering, and a
/// stage that starts over (the next span's encoding, a source rendered after the edit) is timed afresh.
public struct ProgressClock: Sendable {
    private var last: Date
    private var spent: [String: Double] = [:]
    private var lastDone: [String: Int] = [:]

    public init(start: Date = Date()) { last = start }

    /// Records that `done` of `total` units of `kind` are done at `now`.
    /// - Returns: the seconds since the previous report (this unit's), and the seconds left of
    ///   `kind` at its rate so far (`nil` while `total` is not known, 0).
    public mutating func record(_ kind: String, done: Int, of total: Int, at now: Date = Date()) -> (unit: Double, left: Double?) {
        let unit = now.timeIntervalSince(last)
        last = now
        if done < lastDone[kind] ?? 0 { spent[kind] = 0 }
        lastDone[kind] = done
        spent[kind, default: 0] += unit
        guard total > 0 else { return (unit, nil) }
        return (unit, spent[kind, default: 0] / Double(max(done, 1)) * Double(max(total - done, 0)))
    }
}
