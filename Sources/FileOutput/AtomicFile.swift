import Foundation

/// Writes files atomically: into a temporary file in the destination's folder, then renamed
/// over the destination, so a reader never sees a half-written output and a failed write
/// leaves any previous file intact.
///
/// Every output of the package goes through here (audio files, `.npy` tensors, PNG pictures,
/// and the CLI's check that no output is one of its inputs). A writer either hands over its
/// bytes (``write(_:to:)``) or, when a library writes the file itself, writes to
/// ``temporaryURL(besides:)`` and then calls ``commit(_:to:)``.
public enum AtomicFile {
    /// Why an output could not be written.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case wouldOverwriteInput(path: String)
        case unwritable(path: String, reason: String)
        /// The file system has no room left (or the user's quota is used up): no other file will
        /// fit either.
        case noSpace(path: String)

        public var description: String {
            switch self {
            case .wouldOverwriteInput(let path): "refusing to overwrite the input file \(path); choose another output path"
            case .unwritable(let path, let reason): "cannot write \(path): \(reason)"
            case .noSpace(let path): "cannot write \(path): no space left on the device (or the disk quota is used up)"
            }
        }
    }

    /// Whether `code`, an `errno`, says that the file system has no room for the write: no
    /// space left, or the user's quota used up.
    public static func meansNoSpace(_ code: Int32) -> Bool { code == ENOSPC || code == EDQUOT }

    /// A temporary path next to `url`, with the same extension (libraries that pick a format
    /// from the extension still see the right one). It is pending until ``commit(_:to:)``: an
    /// interrupt removes it (``PendingFiles``).
    public static func temporaryURL(besides url: URL) -> URL {
        let folder = destination(of: url).deletingLastPathComponent()
        // A name may be as long as the file system allows (255 bytes): the stem is shortened so
        // that the temporary name, 25 bytes longer, still fits.
        var stem = url.deletingPathExtension().lastPathComponent
        while stem.utf8.count > 255 - 25 - url.pathExtension.utf8.count { stem.removeLast() }
        let name = ".\(stem).\(UInt32.random(in: 0...UInt32.max)).partial"
        let ext = url.pathExtension
        let temporary = folder.appendingPathComponent(ext.isEmpty ? name : "\(name).\(ext)")
        PendingFiles.shared.insert(temporary)
        return temporary
    }

    /// Throws ``Error/wouldOverwriteInput(path:)`` when `output` is the same file as one of `inputs`
    /// (after resolving symbolic links), and ``Error/unwritable(path:reason:)`` when it is an
    /// existing file the user may not write (read-only), which ``commit(_:to:)`` would refuse:
    /// so before any work.
    public static func ensure(_ output: URL, isNotOneOf inputs: [URL]) throws {
        let target = PathKey(output.resolvingSymlinksInPath().standardizedFileURL.path), file = identity(of: output)
        for input in inputs where PathKey(input.resolvingSymlinksInPath().standardizedFileURL.path) == target
            || (file != nil && identity(of: input) == file) {   // a hard link: another name of the same file
            throw Error.wouldOverwriteInput(path: output.path)
        }
        try ensureWritable(destination(of: output), named: output)
    }

    /// The device and inode of the file at `url` (through symbolic links), `nil` when there is none.
    private static func identity(of url: URL) -> [UInt64]? {
        var info = stat()
        guard stat(url.path, &info) == 0 else { return nil }
        return [UInt64(info.st_dev), UInt64(info.st_ino)]
    }

    /// Where a write to `url` lands: the file a symbolic link at `url` points to, so that writing
    /// through a link updates its target (as `cp` does) instead of replacing the link; else `url`
    /// (a dangling link, which the write replaces with the file).
    public static func destination(of url: URL) -> URL {
        var info = stat()
        guard lstat(url.path, &info) == 0, info.st_mode & S_IFMT == S_IFLNK else { return url }
        return url.resolvingSymlinksInPath()
    }

    /// Refuses an existing file at `destination` the user may not write: replacing it by a rename
    /// would succeed in a writable folder, but a read-only file says it is not to be replaced; nor
    /// is a FIFO, a device or a socket, which a rename would turn into a plain file (as root, a
    /// link to `/dev/null` would replace `/dev/null`). (A folder there is the caller's to name.)
    private static func ensureWritable(_ destination: URL, named url: URL) throws {
        var info = stat()
        guard stat(destination.path, &info) == 0, info.st_mode & S_IFMT != S_IFDIR else { return }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw Error.unwritable(path: url.path, reason: "it is not a regular file (a FIFO, a device or a socket); give a file's path")
        }
        guard access(destination.path, W_OK) != 0 else { return }
        throw Error.unwritable(path: url.path, reason: "the file exists and is read-only")
    }

    /// Moves a finished temporary file over `url`, once its bytes are on the disk (`fsync`): a
    /// crash after the rename then finds the whole file, and a file system that reports a full
    /// disk only when flushing (NFS) fails the write here. Inside ``committingTogether(_:)`` the
    /// rename waits for the end of the scope.
    ///
    /// A file it replaces keeps its permissions (and, when run as root, its owner); a read-only
    /// one is refused; a symbolic link at `url` is written through (``destination(of:)``).
    public static func commit(_ temporary: URL, to url: URL) throws {
        let destination = destination(of: url)
        do {
            try ensureWritable(destination, named: url)
            var existing = stat()
            if stat(destination.path, &existing) == 0 {
                // Owner (root only) and group (any group the user is in) first: chown clears set-id bits.
                _ = chown(temporary.path, geteuid() == 0 ? existing.st_uid : uid_t.max, existing.st_gid)
                _ = chmod(temporary.path, existing.st_mode & 0o7777)
            }
            let descriptor = open(temporary.path, O_RDONLY | O_CLOEXEC)
            let synced = descriptor >= 0 && fsync(descriptor) == 0
            let code = errno
            if descriptor >= 0 { close(descriptor) }
            guard synced else { throw failure(code, writing: url) }
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            PendingFiles.shared.remove(temporary)
            throw error
        }
        if let staged = StagedCommits.current {
            staged.add(temporary, destination, url)
        } else {
            try renameIntoPlace(temporary, to: destination, reportedAs: url)
        }
    }

    /// Runs `body`, which writes several outputs of one run (audio, picture, log-mel), so that
    /// they replace what was there together: each is written and flushed to its temporary file as
    /// `body` goes, and only when `body` has returned are they all renamed into place, where no
    /// interrupt can come between two renames (``PendingFiles/uninterrupted(_:)``). A run
    /// interrupted before leaves the earlier files, all of them; one whose `body` fails removes
    /// what it wrote (a rename that fails leaves those before it done). A scope inside another is
    /// part of it.
    public static func committingTogether<Value>(_ body: () throws -> Value) throws -> Value {
        if StagedCommits.current != nil { return try body() }
        let staged = StagedCommits()
        StagedCommits.current = staged
        defer { StagedCommits.current = nil }
        let value: Value
        do { value = try body() } catch {
            staged.discard()
            throw error
        }
        try PendingFiles.shared.uninterrupted { try staged.renameAll() }
        return value
    }

    /// Removes `url`, an earlier run's file that this run's outputs make stale: inside
    /// ``committingTogether(_:)`` once the scope's files are renamed into place (a scope that
    /// fails keeps it), at once outside one. A file already gone is no error.
    public static func removeWhenCommitted(_ url: URL) {
        if let staged = StagedCommits.current {
            staged.removeAfterRenames(url)
        } else {
            try? FileManager.default.removeItem(at: url)
        }
    }

    /// Renames a flushed temporary file over `destination`; a failure removes it.
    fileprivate static func renameIntoPlace(_ temporary: URL, to destination: URL, reportedAs url: URL) throws {
        defer { PendingFiles.shared.remove(temporary) }
        guard rename(temporary.path, destination.path) == 0 else {
            let code = errno
            try? FileManager.default.removeItem(at: temporary)
            throw failure(code, writing: url)
        }
    }

    private static func failure(_ code: Int32, writing url: URL) -> Error {
        meansNoSpace(code) ? Error.noSpace(path: url.path) : Error.unwritable(path: url.path, reason: String(cString: strerror(code)))
    }

    /// Writes `data` to `url` atomically.
    public static func write(_ data: Data, to url: URL) throws {
        let temporary = temporaryURL(besides: url)
        do { try data.write(to: temporary) } catch {
            try? FileManager.default.removeItem(at: temporary)
            PendingFiles.shared.remove(temporary)
            if case CocoaError.fileWriteOutOfSpace = error { throw Error.noSpace(path: url.path) }
            throw Error.unwritable(path: url.path, reason: (error as NSError).localizedDescription)
        }
        try commit(temporary, to: url)
    }
}

/// The temporary files a ``AtomicFile/committingTogether(_:)`` scope has written and flushed,
/// waiting to be renamed into place; one scope per thread (a server's job thread and its upload
/// handlers write at once).
private final class StagedCommits {
    private var files: [(temporary: URL, destination: URL, reported: URL)] = []

    private var stale: [URL] = []

    func add(_ temporary: URL, _ destination: URL, _ reported: URL) { files.append((temporary, destination, reported)) }

    func removeAfterRenames(_ url: URL) { stale.append(url) }

    func renameAll() throws {
        defer { discard() }
        while !files.isEmpty {
            let file = files.removeFirst()
            try AtomicFile.renameIntoPlace(file.temporary, to: file.destination, reportedAs: file.reported)
        }
        for url in stale { try? FileManager.default.removeItem(at: url) }
    }

    func discard() {
        for file in files {
            try? FileManager.default.removeItem(at: file.temporary)
            PendingFiles.shared.remove(file.temporary)
        }
        (files, stale) = ([], [])
    }

    // A pthread key because Swift has no thread-local storage; the key lives for the process.
    private static let key: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    /// The calling thread's scope.
    static var current: StagedCommits? {
        get { pthread_getspecific(key).map { Unmanaged<StagedCommits>.fromOpaque($0).takeUnretainedValue() } }
        set {
            if let old = pthread_getspecific(key) { Unmanaged<StagedCommits>.fromOpaque(old).release() }
            pthread_setspecific(key, newValue.map { Unmanaged.passRetained($0).toOpaque() })
        }
    }
}
