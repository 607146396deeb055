import Foundation

/// The times of one benchmark: one untimed warm-up run, then `runs` timed runs.
public struct BenchmarkTiming: Sendable {
    /// Seconds of each timed run, in the order they ran.
    public let runs: [Double]
    /// The median of ``runs`` (the upper one of an even count).
    public let median: Double
    /// The process's peak resident memory after the runs, in MiB.
    public let peakResidentMiB: Double

    /// Runs `work` once to warm up, then `runs` times, timing each.
    public init(runs: Int, _ work: () throws -> Void) rethrows {
        try work()
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try work()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        self.runs = times
        median = times.sorted()[times.count / 2]
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        peakResidentMiB = Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
    }
}
