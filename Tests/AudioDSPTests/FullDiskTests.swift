import AudioDSP
import FileOutput
import Foundation
import Testing

/// A small file system of its own (tmpfs), mounted for the test when the process may mount one
/// (root with the capability); elsewhere the tests are skipped, not passed.
private enum SmallFileSystem {
    static let canMount: Bool = {
        guard geteuid() == 0, let folder = try? mount(kilobytes: 16) else { return false }
        unmount(folder)
        return true
    }()

    static func mount(kilobytes: Int) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("small-fs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        guard run("/bin/mount", ["-t", "tmpfs", "-o", "size=\(kilobytes)k", "tmpfs", folder.path]) else {
            try? FileManager.default.removeItem(at: folder)
            throw CocoaError(.fileWriteNoPermission)
        }
        return folder
    }

    static func unmount(_ folder: URL) {
        _ = run("/bin/umount", [folder.path])
        try? FileManager.default.removeItem(at: folder)
    }

    private static func run(_ tool: String, _ arguments: [String]) -> Bool {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tool)
        process.arguments = arguments
        process.standardError = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }
}

@Suite("Writing audio to a full file system")
struct FullDiskTests {
    @Test("says there is no space, in every container, and leaves no temporary file", .enabled(if: SmallFileSystem.canMount))
    func noSpace() throws {
        let folder = try SmallFileSystem.mount(kilobytes: 64)
        defer { SmallFileSystem.unmount(folder) }
        try Data(count: 56 << 10).write(to: folder.appendingPathComponent("filler"))
        var random = SystemRandomNumberGenerator()
        let noise = AudioBuffer(mono: (0..<32000).map { _ in Float.random(in: -0.5...0.5, using: &random) }, sampleRate: 16000)
        for name in ["x.wav", "x.flac", "x.ogg", "x.aiff"] {
            let url = folder.appendingPathComponent(name)
            #expect(throws: AudioFileError.noSpace(path: url.path), "\(name)") { try AudioFile.write(noise, to: url) }
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path) == ["filler"])
    }
}
