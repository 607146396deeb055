/// Why a batch cannot run, or why one of its lines failed.
public enum BatchError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String)
    /// Two lines (1-based) whose outputs are the same file.
    case duplicateOutput(path: String, lines: [Int])
    case invalidShard(String)
    /// `--shard auto` outside a job array, or in one it cannot split evenly; the text says which.
    case noScheduler(String)
    case invalidSeeds(String)
    case invalidTakeCount(Int)

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read the batch file \(path)"
        case .duplicateOutput(let path, let lines):
            "lines \(lines.map(String.init).joined(separator: " and ")) both write \(path); give each line its own output"
        case .invalidShard(let text): "--shard must be K/N with 0 <= K < N (e.g. 0/4), or auto, got \(text)"
        case .noScheduler(let reason): "--shard auto: \(reason)"
        case .invalidSeeds(let reason): "--seeds: \(reason)"
        case .invalidTakeCount(let count): "the number of takes must be in 1...\(Takes.maximumCount), got \(count)"
        }
    }
}
