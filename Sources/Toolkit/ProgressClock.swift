import Foundation

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
