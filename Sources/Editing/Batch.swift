import Foundation
import Pipeline

/// One line of a batch of generations (JSON Lines). Only `prompt` is required; absent fields take
/// the defaults the caller gives; `output` is relative to the batch's output folder (default
/// `NNNNNN.wav`, the 0-based line number).
public struct BatchItem: Codable, Sendable, Equatable {
    public var prompt: String
    public var negative: String?
    public var seed: UInt64?
    public var steps: Int?
    public var guidance: Float?
    public var duration: Double?
    public var output: String?

    /// `defaults` with this line's prompt and the fields it gives.
    public func request(defaults: GenerationRequest) -> GenerationRequest {
        var request = defaults
        request.prompt = prompt
        request.negativePrompt = negative ?? defaults.negativePrompt
        request.stepCount = steps ?? defaults.stepCount
        request.guidanceScale = guidance ?? defaults.guidanceScale
        request.duration = duration ?? defaults.duration
        return request
    }
}

/// `K/N`: a process takes the lines whose 0-based index i has i mod N = K, so a batch splits
/// across the tasks of a Slurm job array (`$SLURM_ARRAY_TASK_ID`) or a Kubernetes indexed job
/// (`$JOB_COMPLETION_INDEX`), both 0-based, and the shards are disjoint and cover every line.
public struct Shard: Sendable, Equatable {
    public var index: Int
    public var count: Int

    /// Every line: `0/1`.
    public static let all = Shard(index: 0, count: 1)

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `K/N`.
    /// - Throws: ``BatchError/invalidShard(_:)`` unless 0 ≤ K < N.
    public init(_ text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let index = parts[0], let count = parts[1], count >= 1, index >= 0, index < count else {
            throw BatchError.invalidShard(text)
        }
        self.init(index: index, count: count)
    }

    public func contains(_ line: Int) -> Bool { line % count == index }
}

/// Why a batch file could not be read.
public enum BatchError: Error, Equatable, CustomStringConvertible {
    case unreadable(path: String)
    /// A line (1-based) that is not a JSON object with a `"prompt"`.
    case invalidLine(path: String, line: Int)
    case invalidShard(String)

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read the batch file \(path)"
        case .invalidLine(let path, let line): "\(path):\(line): not a JSON object with a \"prompt\""
        case .invalidShard(let text): "the shard must be K/N with 0 <= K < N (e.g. 0/4), got \(text)"
        }
    }
}

/// A JSON Lines batch file: one ``BatchItem`` per non-empty line.
public enum BatchFile {
    /// The items of `url` with their 0-based line numbers.
    /// - Throws: ``BatchError``.
    public static func read(_ url: URL) throws -> [(line: Int, item: BatchItem)] {
        guard let text = try? String(contentsOf: url, encoding: .utf8) else { throw BatchError.unreadable(path: url.path) }
        var items: [(Int, BatchItem)] = []
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.trimmingCharacters(in: .whitespaces).isEmpty {
            guard let item = try? JSONDecoder().decode(BatchItem.self, from: Data(line.utf8)) else {
                throw BatchError.invalidLine(path: url.path, line: index + 1)
            }
            items.append((index, item))
        }
        return items
    }
}
