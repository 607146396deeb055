/// A path compared byte for byte, as the file system compares names. Swift's `String` equality
/// takes canonically equivalent spellings for one (`café` with a composed `é` or an `e` and a
/// combining accent), while on Linux they name two files; sets and dictionaries of paths key on
/// this instead.
public struct PathKey: Hashable, Sendable {
    public let bytes: [UInt8]

    public init(_ path: String) { bytes = Array(path.utf8) }
}
