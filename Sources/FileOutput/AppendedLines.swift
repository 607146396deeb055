import Foundation

/// A text file that grows by whole lines, each one written by a single `write` and flushed to
/// the disk before ``append(_:)`` returns: a process killed at any moment leaves every line it
/// finished, and at worst a last line cut short, which a reader skips. Several processes may
/// append to one file (`O_APPEND`), though on network file systems each should have its own.
public final class AppendedLines {
    public let url: URL
    private let descriptor: Int32

    /// Opens `url` for appending, creating it if needed. A last line cut short by a killed
    /// writer is ended first, so the next line starts on a line of its own.
    /// - Throws: ``AtomicFile/Error/unwritable(path:reason:)``.
    public init(_ url: URL) throws {
        self.url = url
        descriptor = open(url.path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw AtomicFile.Error.unwritable(path: url.path, reason: String(cString: strerror(errno))) }
        var last: UInt8 = 0
        if pread(descriptor, &last, 1, max(lseek(descriptor, 0, SEEK_END) - 1, 0)) == 1, last != UInt8(ascii: "\n") {
            try append("")
        }
    }

    deinit { close(descriptor) }

    /// Appends `line` (without its newline) and flushes it.
    /// - Throws: ``AtomicFile/Error/unwritable(path:reason:)``.
    public func append(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        let written = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(descriptor) == 0 else {
            throw AtomicFile.Error.unwritable(path: url.path, reason: written < 0 ? String(cString: strerror(errno)) : "short write")
        }
    }
}
