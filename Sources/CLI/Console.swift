import Foundation

/// The command's standard streams. A write that fails (stdout redirected onto a full disk, past a
/// file-size limit, a closed pipe) is dropped: the run's files and its exit status still say what
/// happened, where Foundation's `FileHandle.write(_:)` would stop the process.
enum Console {
    static func output(_ text: String) { try? FileHandle.standardOutput.write(contentsOf: Data(text.utf8)) }

    static func error(_ text: String) { try? FileHandle.standardError.write(contentsOf: Data(text.utf8)) }
}
