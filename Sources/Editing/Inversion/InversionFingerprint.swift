import Compute
import Foundation

/// Short fingerprints that tie a saved ``Inversion`` to what it was made from, so that it is not
/// applied to another clip or model by mistake (they guard against accidents, not forgery).
///
/// Both are 64-bit FNV-1a hashes, printed as 16 hex digits.
public enum InversionFingerprint {
    /// A tensor's shape and values, bit for bit. Of a clip's latents: the inversion holds for
    /// exactly these latents (another encoding, e.g. a posterior sample, needs its own).
    public static func tensor(_ tensor: Tensor) -> String {
        var hash = FNV1a()
        hash.add(tensor.shape.map(String.init).joined(separator: "x"))
        tensor.scalars.withUnsafeBytes { hash.add($0) }
        return hash.hex
    }

    /// The model folder: every file's path relative to the folder and size, and the first and
    /// last MiB of its contents — enough to tell models apart without reading gigabytes.
    /// - Throws: ``InversionError/unreadable(path:reason:)`` when the folder cannot be listed or read.
    public static func model(at folder: URL) throws -> String {
        let root = folder.resolvingSymlinksInPath().standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey, .fileSizeKey]) else {
            throw InversionError.unreadable(path: folder.path, reason: "the model folder cannot be listed")
        }
        var files: [(path: String, url: URL, size: Int)] = []
        for case let url as URL in walker {
            let values = try url.resourceValues(forKeys: [.isRegularFileKey, .fileSizeKey])
            guard values.isRegularFile == true else { continue }
            let relative = String(url.resolvingSymlinksInPath().standardizedFileURL.path.dropFirst(root.path.count))
            files.append((relative, url, values.fileSize ?? 0))
        }
        var hash = FNV1a()
        let window = 1 << 20
        for file in files.sorted(by: { $0.path < $1.path }) {
            hash.add("\(file.path)\u{0}\(file.size)\u{0}")
            guard let handle = try? FileHandle(forReadingFrom: file.url) else {
                throw InversionError.unreadable(path: file.url.path, reason: "the model file cannot be read")
            }
            defer { try? handle.close() }
            hash.add(try handle.read(upToCount: window) ?? Data())
            if file.size > 2 * window {
                try handle.seek(toOffset: UInt64(file.size - window))
                hash.add(try handle.read(upToCount: window) ?? Data())
            }
        }
        return hash.hex
    }
}
