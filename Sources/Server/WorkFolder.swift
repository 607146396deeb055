import AudioDSP
import Foundation

/// The server's files, all inside one folder: `clips/ID/` holds a clip's versions (`vN.EXT`),
/// their spectrogram pictures (`vN.png`), plans (`vN.plan.json`) and attention heatmaps
/// (`vN-maps/`); `incoming/` holds uploads while they are checked.
///
/// No request names a path: clip ids are 32 hex digits the server made, versions are numbers
/// into a list it keeps, and every file name is one it wrote; anything else is "not found".
///
/// Expiry: a clip and everything in it is deleted ``ServerConfiguration/expirySeconds`` after
/// its last new version, unless a queued or running job uses it. The rule is applied when the
/// server starts (to what an earlier run left, by modification time) and before every upload
/// and every new job.
final class WorkFolder: @unchecked Sendable {   // state behind `lock`; handlers and the worker thread share it
    struct Clip {
        var id: String
        var name: String
        var format: AudioContainer
        var versions: [Version] = []
        var lastChange: Date
    }

    let root: URL
    let expiry: TimeInterval
    private let lock = NSLock()
    private var clips: [String: Clip] = [:]

    /// Creates the folder's layout and deletes what an earlier run left longer ago than `expiry`.
    init(root: URL, expiry: TimeInterval, now: Date = Date()) throws {
        self.root = root.standardizedFileURL
        self.expiry = expiry
        for folder in [clipsFolder, incomingFolder] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        let leftovers = (try? FileManager.default.contentsOfDirectory(at: clipsFolder, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
        for folder in leftovers {
            let modified = (try? folder.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
            if now.timeIntervalSince(modified) > expiry { try? FileManager.default.removeItem(at: folder) }
        }
        for file in (try? FileManager.default.contentsOfDirectory(at: incomingFolder, includingPropertiesForKeys: nil)) ?? [] {
            try? FileManager.default.removeItem(at: file)
        }
    }

    private var clipsFolder: URL { root.appendingPathComponent("clips", isDirectory: true) }
    var incomingFolder: URL { root.appendingPathComponent("incoming", isDirectory: true) }

    /// A fresh id: 32 hex digits.
    static func newID() -> String { UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased() }

    /// Whether `text` has the shape of an id the server makes.
    static func isID(_ text: String) -> Bool { text.count == 32 && text.allSatisfy { $0.isHexDigit && !$0.isUppercase } }

    /// The folder of clip `id` (which must be a made id).
    func folder(of id: String) -> URL { clipsFolder.appendingPathComponent(id, isDirectory: true) }

    /// Registers a new, empty clip and creates its folder.
    func newClip(name: String, format: AudioContainer, now: Date = Date()) throws -> String {
        let id = Self.newID()
        try FileManager.default.createDirectory(at: folder(of: id), withIntermediateDirectories: true)
        lock.withLock { clips[id] = Clip(id: id, name: name, format: format, lastChange: now) }
        return id
    }

    /// Appends `version` (whose files are already in the clip's folder) to clip `id`.
    func add(_ version: Version, to id: String, now: Date = Date()) throws {
        try lock.withLock {
            guard clips[id] != nil else { throw ServerError.notFound("clip \(id) expired while the job ran") }
            clips[id]?.versions.append(version)
            clips[id]?.lastChange = now
        }
    }

    /// Deletes clip `id` (an upload that failed its checks, a clip asked to be deleted).
    func remove(_ id: String) {
        lock.withLock { _ = clips.removeValue(forKey: id) }
        try? FileManager.default.removeItem(at: folder(of: id))
    }

    /// Clip `id`, or a 404 that says why.
    func clip(_ id: String) throws -> Clip {
        try lock.withLock {
            guard Self.isID(id), let clip = clips[id] else {
                throw ServerError.notFound("no clip \"\(id.prefix(40))\"; it may have expired (clips are kept \(hours) h after their last change)")
            }
            return clip
        }
    }

    /// Version `number` of clip `id`, or a 404.
    func version(_ number: Int, of id: String) throws -> Version {
        let clip = try clip(id)
        guard clip.versions.indices.contains(number) else {
            throw ServerError.notFound("clip \(id) has versions 0…\(clip.versions.count - 1), not \(number)")
        }
        return clip.versions[number]
    }

    /// The file `name` of clip `id`, when it is one the server wrote for a version.
    func file(_ name: String, of id: String) throws -> URL {
        let clip = try clip(id)
        let known = clip.versions.flatMap { version in
            [version.file, "v\(version.number).png", "v\(version.number).plan.json"]
                + version.maps.map { "v\(version.number)-maps/\($0.picture)" }
        }
        let url = folder(of: id).appendingPathComponent(name)
        // A name the versions could have but this one has not (an upload has no plan) is as unknown.
        guard known.contains(name), FileManager.default.fileExists(atPath: url.path) else {
            throw ServerError.notFound("clip \(id) has no file \"\(name.prefix(80))\"")
        }
        return url
    }

    /// The API's view of clip `id`.
    func summary(_ id: String, canvasSeconds: Double) throws -> ClipSummary {
        let clip = try clip(id)
        return ClipSummary(id: id, name: clip.name, format: clip.format.rawValue, versions: clip.versions, canvasSeconds: canvasSeconds)
    }

    /// Deletes the clips unchanged for longer than the expiry, except those in `busy`; returns their ids.
    @discardableResult
    func sweep(now: Date = Date(), busy: Set<String>) -> [String] {
        let expired = lock.withLock {
            let ids = clips.values.filter { now.timeIntervalSince($0.lastChange) > expiry && !busy.contains($0.id) }.map(\.id)
            for id in ids { clips.removeValue(forKey: id) }
            return ids
        }
        for id in expired { try? FileManager.default.removeItem(at: folder(of: id)) }
        return expired
    }

    private var hours: String { String(format: "%g", expiry / 3600) }
}
