import Foundation
import Pipeline

/// Where a job is, as `GET /api/jobs/ID` returns it and its event stream pushes it.
public struct JobStatus: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable {
        case queued, running, done, failed, cancelled

        /// Whether the job will change no more.
        public var isFinal: Bool { self == .done || self == .failed || self == .cancelled }
    }

    public var id: String
    public var kind: EditRequest.Kind
    public var clip: String?
    public var state: State
    /// While queued: 1 for the next job to run.
    public var position: Int?
    /// While running: the step done over the whole plan, of ``total``.
    public var step: Int?
    public var total: Int?
    /// While running the work around its steps — `encoding` a clip, `decoding` or `vocoding` the
    /// result, window by window — that work and its units done (``stageDone``) of ``stageTotal``.
    public var stage: String?
    public var stageDone: Int?
    public var stageTotal: Int?
    /// Seconds since the job started running, and an estimate of the seconds left (of the steps,
    /// or of the stage while one runs).
    public var elapsed: Double?
    public var secondsLeft: Double?
    /// When done: the new version of ``clip``.
    public var version: Int?
    /// When failed: what went wrong.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, clip, state, position, step, total, stage, elapsed, version, error
        case stageDone = "stage_done", stageTotal = "stage_total", secondsLeft = "seconds_left"
    }
}

/// Where a running job is, as its work reports it: the step done of the total (0: not known yet),
/// and the work around the steps while it runs (``JobStatus/stage``).
struct JobProgress: Sendable {
    var step: Int
    var total: Int
    var rendering: RenderProgress?

    init(step: Int, total: Int, rendering: RenderProgress? = nil) {
        (self.step, self.total, self.rendering) = (step, total, rendering)
    }
}
