import Foundation

/// The page's files (`Sources/Server/Page/`): found in the resource bundle beside the
/// executable, else in the source tree the server was built from, and read once.
struct PageFiles: Sendable {
    /// File name → (content type, bytes).
    let files: [String: (type: String, data: Data)]

    static let names = ["index.html": "text/html; charset=utf-8", "editor.js": "text/javascript; charset=utf-8",
                        "editor.css": "text/css; charset=utf-8"]

    init() throws {
        let bundle = "Auffusion_Server.resources/Page"
        let executable = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [Bundle.main.bundleURL.appendingPathComponent(bundle), executable?.appendingPathComponent(bundle),
                          URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Page")]
        guard let folder = candidates.compactMap({ $0 }).first(where: {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("index.html").path)
        }) else {
            throw ServerConfigurationError.invalid(option: "the page", reason: "is not beside the executable (\(bundle)); reinstall auffusion")
        }
        var files: [String: (type: String, data: Data)] = [:]
        for (name, type) in Self.names {
            files[name] = (type, try Data(contentsOf: folder.appendingPathComponent(name)))
        }
        self.files = files
    }
}
