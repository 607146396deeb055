import Foundation

/// A folder that a batch or a plan writes into, and the one rule for the names it is given:
/// a relative name (`dog.wav`, `takes/dog-001.wav`) or an absolute path lands inside the folder
/// or is refused. `..` may appear only where it stays inside (`a/../b.wav`); a symbolic link
/// inside the folder that points out of it is refused too, so no name can write elsewhere.
public struct OutputFolder: Sendable, Equatable {
    /// Why a name cannot be written inside the folder.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case escapes(name: String, folder: String)
        case notAFile(name: String)
        case folderIsAFile(name: String, path: String)

        public var description: String {
            switch self {
            case .escapes(let name, let folder): "the output \(name) is outside the output folder \(folder); give a path inside it"
            case .notAFile(let name): "the output \"\(name)\" names no file"
            case .folderIsAFile(let name, let path): "the output \(name) needs the folder \(path), which is a file; give another output"
            }
        }
    }

    /// The folder, absolute and standardized.
    public let url: URL

    public init(_ url: URL) {
        self.url = url.standardizedFileURL
    }

    /// The file `name` names inside the folder.
    /// - Throws: ``Error`` when it is empty, names the folder itself, leaves the folder (by
    ///   `..`, an absolute path elsewhere, or a symbolic link, the file's own included: a write
    ///   goes through a link to its target), or needs a folder where a file is.
    public func file(_ name: String) throws -> URL {
        guard !name.isEmpty, !name.hasSuffix("/") else { throw Error.notAFile(name: name) }
        let file = (name.hasPrefix("/") ? URL(fileURLWithPath: name) : url.appendingPathComponent(name)).standardizedFileURL
        guard file.path != url.path else { throw Error.notAFile(name: name) }
        guard Self.isInside(file.path, url.path) else { throw Error.escapes(name: name, folder: url.path) }
        // The deepest part of the path that exists already must resolve inside the folder too.
        var existing = file
        while existing.path.count > url.path.count, !FileManager.default.fileExists(atPath: existing.path) {
            existing = existing.deletingLastPathComponent()
        }
        let root = url.resolvingSymlinksInPath().path
        guard Self.isInside(existing.resolvingSymlinksInPath().path, root) else {
            throw Error.escapes(name: name, folder: url.path)
        }
        var isFolder: ObjCBool = false
        if existing.path != file.path, FileManager.default.fileExists(atPath: existing.path, isDirectory: &isFolder), !isFolder.boolValue {
            throw Error.folderIsAFile(name: name, path: existing.path)
        }
        return file
    }

    /// The path `file` reaches once the symbolic links of its existing part are resolved (the
    /// rest of it may not exist yet): two names of one file give one path.
    public static func resolvedPath(_ file: URL) -> String {
        var existing = file.standardizedFileURL, rest: [String] = []
        while !FileManager.default.fileExists(atPath: existing.path), existing.pathComponents.count > 1 {
            rest.insert(existing.lastPathComponent, at: 0)
            existing = existing.deletingLastPathComponent()
        }
        return rest.reduce(existing.resolvingSymlinksInPath()) { $0.appendingPathComponent($1) }.path
    }

    /// ``resolvedPath(_:)`` for many files, each folder resolved once (a batch's outputs share a few).
    public struct ResolvedPaths {
        private var folders: [PathKey: String] = [:]

        public init() {}

        /// ``OutputFolder/resolvedPath(_:)`` of `file`.
        public mutating func of(_ file: URL) -> String {
            if FileManager.default.fileExists(atPath: file.path) { return OutputFolder.resolvedPath(file) }
            let parent = file.standardizedFileURL.deletingLastPathComponent()
            let resolved = folders[PathKey(parent.path)] ?? OutputFolder.resolvedPath(parent)
            folders[PathKey(parent.path)] = resolved
            return resolved + "/" + file.lastPathComponent
        }
    }

    /// The path of `file` (from ``file(_:)``) relative to the folder.
    public func relativePath(_ file: URL) -> String {
        String(file.standardizedFileURL.path.dropFirst(url.path.count).drop { $0 == "/" })
    }

    /// Creates the folders `file` (from ``file(_:)``) needs.
    public func createFolders(for file: URL) throws {
        try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
    }

    private static func isInside(_ path: String, _ folder: String) -> Bool {
        path == folder || path.hasPrefix(folder.hasSuffix("/") ? folder : folder + "/")
    }
}
