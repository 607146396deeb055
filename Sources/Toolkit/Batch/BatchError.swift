/// Why a batch cannot run, or why one of its lines failed.
public enum BatchError: Error, Equatable, CustomStringConvertible {
    /// A batch file that is not UTF-8 text.
    case unreadable(path: String)
    /// More tasks (lines × takes) than a batch may hold.
    case tooManyTasks(Int, limit: Int)
    /// Two lines (1-based) whose outputs are the same file.
    case duplicateOutput(path: String, lines: [Int])
    /// Two lines (1-based): the first's output is a folder the second's output needs.
    case outputHoldsOutput(path: String, folder: String, lines: [Int])
    /// A line (1-based) whose output is a file another line, or itself, reads.
    case outputIsInput(path: String, outputLine: Int, inputLine: Int)
    /// The output folder's file system filled up while writing `path`: every task after would fail alike.
    case noSpace(path: String)
    case invalidShard(String)
    /// `--shard auto` outside a job array, or in one it cannot split evenly; the text says which.
    case noScheduler(String)
    case invalidSeeds(String)
    case invalidTakeCount(Int)

    public var description: String {
        switch self {
        case .unreadable(let path): "the batch file \(path) is not UTF-8 text"
        case .tooManyTasks(let count, let limit):
            "the batch has \(count) tasks (lines × takes); split it into files of at most \(limit)"
        case .duplicateOutput(let path, let lines):
            "lines \(lines.map(String.init).joined(separator: " and ")) both write \(path); give each line its own output"
        case .outputHoldsOutput(let path, let folder, let lines):
            "line \(lines[1]) writes \(path) inside \(folder), which line \(lines[0]) writes as a file; give one of them another output"
        case .outputIsInput(let path, let outputLine, let inputLine):
            outputLine == inputLine ? "line \(outputLine) writes its own input \(path); give it another output"
                : "line \(outputLine) writes \(path), which line \(inputLine) reads; give it another output"
        case .noSpace(let path):
            "no space left on the device of the output folder (writing \(path)); free some and run again with --skip-existing, "
                + "which keeps what is done"
        case .invalidShard(let text): "the shard must be K/N with 0 <= K < N (e.g. 0/4), or auto, got \(text)"
        case .noScheduler(let reason): "the shard auto: \(reason)"
        case .invalidSeeds(let reason): "the seeds: \(reason)"
        case .invalidTakeCount(let count): "the number of takes must be in 1...\(Takes.maximumCount), got \(count)"
        }
    }
}
