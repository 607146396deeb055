import AudioDSP
import Compute
import Editing
import FileOutput
import Foundation

/// A batch laid out as tasks before anything runs: every line of the file (or the lines a
/// caller gives) times the takes, each with its output file inside the output folder and its
/// seed, in a fixed order. The same file and options give the same tasks on every machine,
/// which is what lets shards run independently (``Shard``).
///
/// **Numbering.** The i-th line that is not blank (0-based) has takes k = 0…T−1; its task
/// number is i·T + k, the number a shard tests. Blank lines do not count, so that a file with
/// a blank line after each line still spreads over every shard.
///
/// **Naming.** A line's output is its `"output"` or, without one, `NNNNNN.wav` (its 0-based line
/// number, six digits). With several takes, take k inserts `-KKK` (k + 1, three digits) before
/// the extension: `dog-001.wav`, `dog-002.wav`, `000004-001.wav`.
///
/// **Checks, all before the first task runs.** A line that does not decode, or whose output
/// leaves the folder or has no audio extension, becomes a failed task (the others run). Two
/// tasks with the same output file, or one whose output is another's folder, refuse the whole
/// batch, on every shard alike.
public struct BatchPlan<Line: BatchLine>: Sendable {
    /// One task: a take of a line.
    public struct Task: Sendable {
        /// The line's 0-based number in the file.
        public var line: Int
        /// The take's 0-based number.
        public var take: Int
        /// i·T + k for the i-th line that is not blank, what shards split on.
        public var number: Int
        /// The line, or why it cannot run.
        public var item: Result<Line, BatchFailure>
        /// The output file; `nil` when the line did not give a usable one.
        public var output: URL?
        /// The seed; `nil`: draw one when the task runs.
        public var seed: UInt64?
    }

    /// The largest batch file read (64 MiB: a million short prompts).
    public static var fileLimit: Int { 64 << 20 }
    /// The longest line decoded (1 MiB, an edit plan's own limit); a longer line fails alone.
    public static var lineLimit: Int { EditPlanDocument.fileLimit }
    /// The most tasks (lines × takes) one batch may hold; each is a few hundred bytes planned.
    public static var taskLimit: Int { 1_000_000 }

    public let folder: OutputFolder
    public let takes: Takes
    public let tasks: [Task]

    /// The plan of `lines`: (0-based line number, the line or why it failed to decode).
    /// - Throws: ``BatchError/duplicateOutput(path:lines:)``, ``BatchError/outputHoldsOutput(path:folder:lines:)``,
    ///   ``BatchError/tooManyTasks(_:limit:)``.
    public init(lines: [(line: Int, item: Result<Line, BatchFailure>)], folder: OutputFolder, takes: Takes) throws {
        guard lines.count * takes.count <= Self.taskLimit else {
            throw BatchError.tooManyTasks(lines.count * takes.count, limit: Self.taskLimit)
        }
        self.folder = folder
        self.takes = takes
        var tasks: [Task] = []
        var owners: [PathKey: Int] = [:], outputs: [(path: String, line: Int)] = []
        var resolved = OutputFolder.ResolvedPaths()
        for (index, (line, item)) in lines.enumerated() {
            for take in 0..<takes.count {
                var task = Task(line: line, take: take, number: index * takes.count + take, item: item, output: nil, seed: nil)
                if case .success(let decoded) = item {
                    task.seed = takes.seed(take: take, lineSeed: decoded.seed)
                    do {
                        let output = try folder.file(Self.name(decoded.output, line: line, take: take, of: takes.count))
                        guard AudioContainer(path: output) != nil else {
                            throw BatchFailure("\(AudioFileError.unsupportedExtension(path: output.path))")
                        }
                        // Keyed by the file the path reaches: two names through a symbolic link are one file.
                        let path = resolved.of(output)
                        if let first = owners.updateValue(line, forKey: PathKey(path)) {
                            throw BatchError.duplicateOutput(path: output.path, lines: [first + 1, line + 1])
                        }
                        outputs.append((path, line))
                        task.output = output
                    } catch let error as OutputFolder.Error {
                        task.item = .failure(BatchFailure("\(error)"))
                    } catch let error as BatchFailure {
                        task.item = .failure(error)
                    }
                }
                tasks.append(task)
            }
        }
        try Self.checkNoOutputHoldsAnother(outputs, owners: owners, folder: OutputFolder.resolvedPath(folder.url))
        self.tasks = tasks
    }

    /// Refuses an output that another output needs as its folder (`d.wav` and `d.wav/e.wav`):
    /// whichever shard ran first would decide which of the two lines fails.
    /// - Throws: ``BatchError/outputHoldsOutput(path:folder:lines:)``.
    private static func checkNoOutputHoldsAnother(_ outputs: [(path: String, line: Int)], owners: [PathKey: Int], folder: String) throws {
        for (path, line) in outputs {
            var parent = (path as NSString).deletingLastPathComponent
            while parent.utf8.count > folder.utf8.count {
                if let owner = owners[PathKey(parent)] {
                    throw BatchError.outputHoldsOutput(path: path, folder: parent, lines: [owner + 1, line + 1])
                }
                parent = (parent as NSString).deletingLastPathComponent
            }
        }
    }

    /// The plan of a JSON Lines file: one line per line of `file` that is not blank. Lines end
    /// at `\n` (a `\r` before it is JSON whitespace); a line longer than ``lineLimit`` or not
    /// plain JSON (``StrictJSON``) fails alone.
    /// - Throws: `InputFile.Error` for a file that is missing, not a regular file or larger than
    ///   ``fileLimit``; ``BatchError/unreadable(path:)`` for one that is not UTF-8; as
    ///   ``init(lines:folder:takes:)``.
    public init(file: URL, folder: OutputFolder, takes: Takes) throws {
        let lines = try Self.lines(of: file)
        // Counted before any line is decoded: a file past the limit costs no decoding.
        guard lines.count * takes.count <= Self.taskLimit else {
            throw BatchError.tooManyTasks(lines.count * takes.count, limit: Self.taskLimit)
        }
        try self.init(lines: lines.map { ($0.line, Self.decode($0.text)) }, folder: folder, takes: takes)
    }

    /// The tasks of `shard`.
    public func tasks(in shard: Shard) -> [Task] { tasks.filter { shard.contains($0.number) } }

    /// The name of take `take` of `count` of line `line` whose own output is `output`.
    public static func name(_ output: String?, line: Int, take: Int, of count: Int) -> String {
        let name = output ?? String(format: "%06d.wav", line)
        guard count > 1 else { return name }
        let suffix = String(format: "-%03d", take + 1)
        let file = (name as NSString)
        guard !file.pathExtension.isEmpty else { return name + suffix }
        return file.deletingPathExtension + suffix + "." + file.pathExtension
    }

    /// The lines of `file` that are not blank, with their 0-based numbers.
    private static func lines(of file: URL) throws -> [(line: Int, text: Substring.UTF8View.SubSequence)] {
        guard let text = String(data: try InputFile.contents(of: file, limit: fileLimit), encoding: .utf8) else {
            throw BatchError.unreadable(path: file.path)
        }
        // Split the bytes, not the characters: "\r\n" is one Character, so splitting characters at
        // "\n" would keep a CRLF file as one line.
        return Substring(text).utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated().compactMap { index, line in
            line.contains(where: { ![0x20, 0x09, 0x0D].contains($0) }) ? (index, line) : nil
        }
    }

    /// One line decoded, or why it fails alone.
    private static func decode(_ line: Substring.UTF8View.SubSequence) -> Result<Line, BatchFailure> {
        guard line.count <= lineLimit else {
            return .failure(BatchFailure("the line is \(line.count) bytes; a batch line is limited to \(lineLimit) bytes"))
        }
        do {
            return .success(try Line(json: Data(line)))
        } catch {
            return .failure(BatchFailure("\(error)"))
        }
    }
}

/// Why one task of a batch failed: the message its manifest entry carries.
public struct BatchFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
