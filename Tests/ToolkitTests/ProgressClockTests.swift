import Foundation
import Toolkit
import Testing

/// The time left of a progress line or a job's status: each kind of unit timed by its own seconds.
@Suite("ProgressClock")
struct ProgressClockTests {
    @Test("steps resumed after another span's encoding keep their own rate; a stage that starts over is timed afresh; no total, no estimate")
    func timesEachKindAlone() {
        let start = Date(timeIntervalSince1970: 0)
        var clock = ProgressClock(start: start)
        func at(_ seconds: Double) -> Date { start.addingTimeInterval(seconds) }
        #expect(clock.record("encoding", done: 1, of: 2, at: at(5)) == (5, 5))
        #expect(clock.record("encoding", done: 2, of: 2, at: at(10)) == (5, 0))
        #expect(clock.record("step", done: 1, of: 4, at: at(11)) == (1, 3))        // 1 s a step, 3 to go
        #expect(clock.record("step", done: 2, of: 4, at: at(12)) == (1, 2))
        #expect(clock.record("encoding", done: 1, of: 2, at: at(42)) == (30, 30))  // the next span's encoding, afresh
        #expect(clock.record("step", done: 3, of: 4, at: at(43)) == (1, 1))        // not charged with the 30 s
        #expect(clock.record("step", done: 1, of: 0, at: at(44)).left == nil)
    }
}
