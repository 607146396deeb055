import Foundation

/// Why the outputs of a run cannot be written where they were asked for. Checked before any
/// work starts, so a long run never ends in an unwritable file.
public enum OutputError: Error, Equatable, CustomStringConvertible {
    /// One file is named as two outputs.
    case namedTwice(path: String)
    /// The folder an output goes into does not exist.
    case missingFolder(path: String, folder: String)
    /// The folder an output goes into cannot be written.
    case unwritableFolder(path: String, folder: String)
    /// A folder of outputs could not be created.
    case cannotCreateFolder(path: String)
    /// A file output names an existing folder.
    case isFolder(path: String)
    /// A folder output names an existing file.
    case notAFolder(path: String)

    public var description: String {
        switch self {
        case .namedTwice(let path): "\(path) is named as two outputs; give each output its own file"
        case .missingFolder(let path, let folder): "cannot write \(path): the folder \(folder) does not exist"
        case .unwritableFolder(let path, let folder): "cannot write \(path): the folder \(folder) is not writable"
        case .cannotCreateFolder(let path): "cannot create the folder \(path)"
        case .isFolder(let path): "cannot write \(path): it is a folder; name a file"
        case .notAFolder(let path): "cannot write maps into \(path): it is a file; name a folder"
        }
    }
}
