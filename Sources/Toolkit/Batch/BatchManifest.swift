import FileOutput
import Foundation

/// What a batch's manifest says of one task: the task's ``RunRecord`` (the keys every command
/// prints with `--json`: prompt, seed, steps, guidance, scheduler, details, the output's
/// absolute path, its length in seconds, the time taken) with the batch's own keys beside them
/// on one JSON line, appended and flushed as the task ends (docs/batch.md). `--json` prints the
/// same lines on stdout, plus `skipped` ones, which the manifest does not repeat.
public struct BatchManifestEntry: Encodable, Sendable {
    public enum Status: String, Codable, Sendable { case done, failed, skipped }

    /// The line's 0-based number in the batch file.
    public var line: Int
    /// The take's 0-based number.
    public var take: Int
    public var status: Status
    /// The shard that ran it, `K/N`.
    public var shard: String
    /// ``InversionFingerprint/model(at:)`` of the model folder.
    public var model: String?
    /// Why the task failed.
    public var error: String?
    /// The output's path relative to the output folder, which a resumed run matches (the folder
    /// itself may be reached by another path: moved, mounted elsewhere, through a link).
    public var output: String?
    /// What decided the output (``BatchJob/settings(of:)``, the seed, the model), hashed: a resumed
    /// run redoes an output made from other settings.
    public var fingerprint: String?
    /// What ran and what it wrote.
    public var record: RunRecord

    enum CodingKeys: String, CodingKey { case line, take, status, shard, model, error, output, fingerprint }

    /// The record's keys and the batch's, side by side in one object.
    public func encode(to encoder: any Encoder) throws {
        try record.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(line, forKey: .line)
        try container.encode(take, forKey: .take)
        try container.encode(status, forKey: .status)
        try container.encode(shard, forKey: .shard)
        try container.encodeIfPresent(model, forKey: .model)
        try container.encodeIfPresent(error, forKey: .error)
        try container.encodeIfPresent(output, forKey: .output)
        try container.encodeIfPresent(fingerprint, forKey: .fingerprint)
    }

    /// The entry as one line of JSON, keys sorted.
    public func jsonLine() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }
}

/// The manifests of an output folder: `manifest.jsonl` for a run of the whole batch,
/// `manifest-K-of-N.jsonl` for shard K/N, so that the tasks of a job array never share a file.
public enum BatchManifest {
    /// The manifest file of `shard` in `folder`.
    public static func url(in folder: OutputFolder, shard: Shard) -> URL {
        folder.url.appendingPathComponent(shard == .all ? "manifest.jsonl" : "manifest-\(shard.index)-of-\(shard.count).jsonl")
    }

    /// A task as manifests record it: its output relative to the folder, and what made it.
    public struct TaskKey: Hashable, Sendable {
        public var output: String
        public var fingerprint: String

        public init(output: String, fingerprint: String) {
            self.output = output
            self.fingerprint = fingerprint
        }
    }

    /// The tasks that a manifest in `folder` records as done: what `--skip-existing` does not redo
    /// when the output still exists and the task's settings are the same. Outputs are written
    /// atomically and recorded after, so such a file is whole; one written but not yet recorded
    /// when the run was killed is redone. A line that does not parse (a run killed while writing
    /// it), or that an older version wrote without these keys, counts for nothing.
    public static func finishedTasks(in folder: OutputFolder) -> Set<TaskKey> {
        struct Entry: Decodable {
            var output: String?
            var fingerprint: String?
            var status: BatchManifestEntry.Status
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder.url.path)) ?? [])
            .filter { $0.hasPrefix("manifest") && $0.hasSuffix(".jsonl") }
        var done: Set<TaskKey> = []
        for name in names {
            guard let text = try? String(contentsOf: folder.url.appendingPathComponent(name), encoding: .utf8) else { continue }
            for line in text.split(separator: "\n") {
                guard let entry = try? JSONDecoder().decode(Entry.self, from: Data(line.utf8)), entry.status == .done,
                      let output = entry.output, let fingerprint = entry.fingerprint else { continue }
                done.insert(TaskKey(output: output, fingerprint: fingerprint))
            }
        }
        return done
    }
}
