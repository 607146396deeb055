import Foundation

/// One line of a `generate --batch` JSON Lines file. Only `prompt` is required; absent fields
/// take the command line's values; `output` is relative to `-o DIR` (default `NNNNNN.wav`, the
/// line number).
struct BatchItem: Decodable {
    var prompt: String
    var negative: String?
    var seed: UInt64?
    var steps: Int?
    var guidance: Float?
    var duration: Double?
    var output: String?
}

/// `--shard K/N`: this process takes the lines whose 0-based index i has i mod N = K, so a corpus
/// splits across the tasks of a Slurm job array (`$SLURM_ARRAY_TASK_ID`) or a Kubernetes indexed
/// job (`$JOB_COMPLETION_INDEX`), both 0-based.
struct Shard {
    var index: Int
    var count: Int

    init(_ text: String) throws {
        let parts = text.split(separator: "/").compactMap { Int($0) }
        guard parts.count == 2, parts[1] >= 1, parts[0] >= 0, parts[0] < parts[1] else {
            throw CLIError("--shard must be K/N with 0 ≤ K < N (e.g. 0/4), got \(text)")
        }
        (index, count) = (parts[0], parts[1])
    }

    func contains(_ line: Int) -> Bool { line % count == index }
}

/// Reads a JSON Lines batch file: one `BatchItem` per non-empty line.
enum BatchFile {
    static func read(_ path: String) throws -> [(line: Int, item: BatchItem)] {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw CLIError("cannot read the batch file \(path)")
        }
        var items: [(Int, BatchItem)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            do { items.append((index, try JSONDecoder().decode(BatchItem.self, from: Data(line.utf8)))) } catch {
                throw CLIError("\(path):\(index + 1): not a JSON object with a \"prompt\"")
            }
        }
        return items
    }
}
