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

    /// A fresh, empty temporary folder for a test's outputs.
    public static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("auffusion-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
