import Foundation

/// The folders a run made for its outputs: the folder asked for and the missing ones above it.
/// A run that fails, or is interrupted (``PendingFiles``), before its outputs are in place leaves
/// none of them behind empty.
public struct MadeFolders: Sendable {
    /// The folders made, each after its parent.
    public let urls: [URL]

    /// Makes `folder` and every missing folder above it.
    /// - Throws: `FileManager`'s error when a folder cannot be made.
    public init(_ folder: URL) throws {
        var missing: [URL] = []
        var next = folder.standardizedFileURL
        while next.path != "/" && !FileManager.default.fileExists(atPath: next.path) {
            missing.insert(next, at: 0)
            next = next.deletingLastPathComponent()
        }
        try PendingFiles.shared.makeFolders(missing)
        urls = missing
    }

    /// The outputs are in place: the folders stay, even if an interrupt follows.
    public func keep() { PendingFiles.shared.removeFolders(urls) }

    /// Removes those of the folders that are empty, deepest first (after a failed run).
    public func removeEmpty() { PendingFiles.shared.removeFolders(urls, removingEmpty: true) }
}
