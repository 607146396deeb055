import Compute
import Foundation

/// Locates and loads the golden fixtures in `Tests/Fixtures/`, written by
/// `scripts/reference/generate.py` from the Python reference (never edited by hand).
public enum Fixtures {
    /// The `Tests/Fixtures` folder of this checkout.
    public static let root: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // TestSupport
        .deletingLastPathComponent()   // Tests
        .appendingPathComponent("Fixtures")

    /// The URL of a fixture, e.g. `url("audio/tone_440.npy")`.
    public static func url(_ relativePath: String) -> URL {
        root.appendingPathComponent(relativePath)
    }

    /// A `.npy` fixture as a tensor.
    public static func tensor(_ relativePath: String) throws -> Tensor {
        try NumPyFile.read(url(relativePath))
    }

    /// A JSON fixture decoded into `T`.
    public static func json<T: Decodable>(_ type: T.Type, _ relativePath: String) throws -> T {
        try JSONDecoder().decode(T.self, from: Data(contentsOf: url(relativePath)))
    }

    /// The case list of a fixture, decoded strictly and as long as the generator wrote it: a
    /// suite that reads its arguments through this cannot pass with no cases (a list that stops
    /// decoding, or is emptied or cut, is an error that fails the test instead of skipping it).
    public static func cases<T: Decodable>(_ type: T.Type, _ relativePath: String) throws -> [T] {
        let cases = try json([T].self, relativePath)
        try requireRecordedCount(cases.count, of: relativePath)
        return cases
    }

    /// Throws unless `count` is the number of entries `scripts/reference/generate.py` recorded for
    /// the list in its folder's `counts.json`.
    public static func requireRecordedCount(_ count: Int, of relativePath: String, key: String? = nil) throws {
        let path = relativePath.split(separator: "/")
        let folder = path.dropLast().joined(separator: "/"), name = path.last.map(String.init) ?? relativePath
        let recorded = try json([String: Int].self, folder + "/counts.json")
        let entry = key.map { "\(name)/\($0)" } ?? name
        guard let expected = recorded[entry] else { throw FixtureError.notRecorded(relativePath, entry: entry) }
        guard count == expected, count > 0 else { throw FixtureError.countMismatch(relativePath, entry: entry, recorded: expected, found: count) }
    }

    /// A fresh, empty temporary folder for a test's outputs.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("auffusion-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

/// Why a fixture's case list cannot be used.
public enum FixtureError: Error, CustomStringConvertible {
    case notRecorded(String, entry: String)
    case countMismatch(String, entry: String, recorded: Int, found: Int)

    public var description: String {
        switch self {
        case .notRecorded(let path, let entry): "\(path): counts.json records no \"\(entry)\" (rerun scripts/reference/generate.py)"
        case .countMismatch(let path, let entry, let recorded, let found):
            "\(path): \(found) cases decoded for \"\(entry)\", counts.json records \(recorded)"
        }
    }
}

