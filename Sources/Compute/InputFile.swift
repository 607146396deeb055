import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Opens the files a run reads (audio, weights, configurations, tokenizer files, `.npy`) so that
/// no input can hang or exhaust the machine: only regular files are read (a FIFO with no writer
/// would block `open(2)` forever, a character device such as `/dev/zero` never ends), and files
/// read whole into memory have a size limit.
///
/// ```swift
/// let data = try InputFile.contents(of: url, limit: InputFile.configurationLimit)
/// ```
public enum InputFile {
    /// Why an input could not be opened.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case missing(path: String)
        case notRegular(path: String, kind: String)
        case unreadable(path: String, reason: String)
        case tooLarge(path: String, size: Int, limit: Int)

        public var description: String {
            switch self {
            case .missing(let path): "no file at \(path)"
            case .notRegular(let path, let kind): "\(path) is \(kind), not a regular file"
            case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
            case .tooLarge(let path, let size, let limit):
                "\(path) is \(size) bytes; files of this kind are limited to \(limit) bytes"
            }
        }

        /// The message without the path, for errors that name the file themselves.
        public var reason: String {
            switch self {
            case .missing: "the file is missing"
            case .notRegular(_, let kind): "it is \(kind), not a regular file"
            case .unreadable(_, let reason): reason
            case .tooLarge(_, let size, let limit): "it is \(size) bytes; the limit for this kind of file is \(limit) bytes"
            }
        }
    }

    /// Size limit for JSON configuration and tokenizer files read whole (64 MiB: CLIP's
    /// `vocab.json` is 1.6 MB, a shard index of a large model a few hundred kB).
    public static let configurationLimit = 64 << 20

    /// Opens `url` read-only and checks that it is a regular file.
    ///
    /// The file is opened with `O_NONBLOCK`, so a FIFO without a writer cannot block the open,
    /// then checked with `fstat` on the open descriptor (no window for the path to change in
    /// between); the descriptor is returned in blocking mode. The caller closes it.
    /// - Returns: the descriptor and the file's size in bytes.
    /// - Throws: ``Error`` when the file is missing, unreadable or not a regular file.
    public static func openRegular(_ url: URL) throws -> (descriptor: Int32, size: Int) {
        let path = url.path
        let descriptor = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw Error.missing(path: path) }
            throw Error.unreadable(path: path, reason: String(cString: strerror(errno)))
        }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw Error.unreadable(path: path, reason: reason)
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            close(descriptor)
            throw Error.notRegular(path: path, kind: kind(of: status.st_mode))
        }
        _ = fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK)
        return (descriptor, Int(status.st_size))
    }

    /// Checks that `url` names a regular file, for readers that open paths themselves.
    /// - Returns: the file's size in bytes.
    @discardableResult
    public static func requireRegular(_ url: URL) throws -> Int {
        let (descriptor, size) = try openRegular(url)
        close(descriptor)
        return size
    }

    /// The whole contents of the regular file `url`, refused (before reading) above `limit` bytes.
    public static func contents(of url: URL, limit: Int) throws -> Data {
        let (descriptor, size) = try openRegular(url)
        let handle = FileHandle(fileDescriptor: descriptor, closeOnDealloc: true)
        guard size <= limit else { throw Error.tooLarge(path: url.path, size: size, limit: limit) }
        do {
            // Read one byte past the limit, so a file that grew since fstat is still refused.
            let data = try handle.read(upToCount: limit + 1) ?? Data()
            guard data.count <= limit else { throw Error.tooLarge(path: url.path, size: data.count, limit: limit) }
            return data
        } catch let error as Error {
            throw error
        } catch {
            throw Error.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    private static func kind(of mode: mode_t) -> String {
        switch mode & S_IFMT {
        case S_IFDIR: "a folder"
        case S_IFIFO: "a FIFO (named pipe)"
        case S_IFCHR: "a character device"
        case S_IFBLK: "a block device"
        case S_IFSOCK: "a socket"
        default: "a special file"
        }
    }
}

extension String {
    /// This text cut to at most `limit` characters (Unicode scalars) for an error message, with
    /// an ellipsis and the full length when it was longer: messages echo input, and input can be
    /// 40 MB. Linear in the length, without grapheme breaking.
    public func abbreviated(to limit: Int = 200) -> String {
        guard utf8.count > limit else { return self }
        let scalars = unicodeScalars
        guard let end = scalars.index(scalars.startIndex, offsetBy: limit, limitedBy: scalars.endIndex),
              end < scalars.endIndex else { return self }
        return "\(String(scalars[..<end]))… (\(scalars.count) characters)"
    }
}
