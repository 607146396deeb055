import Foundation

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
    /// Seconds since the job started running, and an estimate of the seconds left.
    public var elapsed: Double?
    public var secondsLeft: Double?
    /// When done: the new version of ``clip``.
    public var version: Int?
    /// When failed: what went wrong.
    public var error: String?

    enum CodingKeys: String, CodingKey {
        case id, kind, clip, state, position, step, total, elapsed, version, error
        case secondsLeft = "seconds_left"
    }
}
