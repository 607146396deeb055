import AudioDSP
import Foundation
import Testing
import TestSupport

/// What a write that cannot finish leaves behind (docs/reliability.md): a full disk, or a
/// SIGTERM while the output is being written.
@Suite("auffusion: outputs cut short by a full disk or a signal")
struct OutputWriteTests {
    let model: URL
    let work: URL

    init() throws {
        model = try PipelineFolders.folder("standard")
        work = try Fixtures.temporaryDirectory()
    }

    private func auffusion() throws -> URL {
        try #require(CommandRunner.productsDirectory()).appendingPathComponent("auffusion")
    }

    @Test("a write the disk cuts short is an error, in every container, and leaves neither the output nor a temporary file",
          arguments: ["flac", "ogg", "wav"])
    func fullDisk(container: String) throws {
        let output = work.appendingPathComponent("cut.\(container)")
        // One seed for both runs: a FLAC file's size depends on the sound (55.9–56.7 KB over seeds).
        let arguments = ["generate", "a beep", "--model", model.path, "--steps", "1", "--duration", "2", "--seed", "1",
                         "-o", output.path, "--quiet"]
        let whole = try CommandRunner.run("auffusion", arguments)
        try #require(whole.exitCode == 0, "\(whole.standardError)")
        let size = try #require(try FileManager.default.attributesOfItem(atPath: output.path)[.size] as? Int)
        try FileManager.default.removeItem(at: output)
        // A file-size limit (ulimit counts 512-byte blocks here) fails every write past it with
        // EFBIG, as a full disk fails them with ENOSPC; the command ignores SIGXFSZ itself, so that
        // the write reports the failure instead of the signal ending the process. The limit is a little
        // under the finished file's size: the cut falls in the encoder's last writes, which
        // libsndfile's FLAC and Ogg encoders do not report.
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/sh")
        process.arguments = ["-c", "ulimit -f \((size - 700) / 512); exec \"$0\" \"$@\"", try auffusion().path] + arguments
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(process.terminationStatus == 1, "\(message)")
        #expect(message.hasPrefix("error: cannot write \(output.path)") && message.split(separator: "\n").count == 1, "\(message)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty)
    }

    /// Starts a 60 s generation into `name` in the work folder as a scheduler would, and stops it
    /// (SIGSTOP) while its temporary file exists; `nil` when three tries each finished first (the
    /// file exists for some 40 ms, and a loaded machine may wake the test too late).
    private func stoppedLongWrite(_ name: String) throws -> pid_t? {
        for _ in 0..<3 {
            let watch = try CreationWatch(folder: work)
            defer { close(watch.descriptor) }
            let pid = try spawnWithSignalsUnblocked(try auffusion(), ["generate", "a beep", "--model", model.path, "--steps", "1",
                                                                      "--duration", "60", "-o", work.appendingPathComponent(name).path, "--quiet"])
            let created = watch.waitForName(containing: ".partial.", timeout: 120)
            kill(pid, SIGSTOP)
            if created, try FileManager.default.contentsOfDirectory(atPath: work.path).contains(where: { $0.contains(".partial.") }) {
                return pid
            }
            kill(pid, SIGKILL)
            waitpid(pid, nil, 0)
            for file in try FileManager.default.contentsOfDirectory(at: work, includingPropertiesForKeys: nil) {
                try FileManager.default.removeItem(at: file)
            }
        }
        return nil
    }

    @Test("SIGTERM while the output is being written removes the temporary file before the process dies of it")
    func terminatedWhileWriting() throws {
        let pid = try #require(try stoppedLongWrite("long.flac"), "the output was finished before the process could be stopped, three times")
        // Sent the signal while the file is pending, then let go. The kernel gives a process's
        // signal to any thread that does not block it, so it is sent to each such thread but the
        // one waiting for it (a thread a library started before `main`, as OpenBLAS's pool is),
        // the case that once ended the process before its cleanup.
        let others = try ThreadSignals.threadsTaking(SIGTERM, of: pid).filter { !$0.isWaiting }
        if others.isEmpty { kill(pid, SIGTERM) }
        for thread in others { ThreadSignals.send(SIGTERM, to: thread.id, of: pid) }
        kill(pid, SIGCONT)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        #expect(status & 0x7f == SIGTERM, "the process ended with status \(status), not by SIGTERM")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty)
    }

    @Test("SIGINT and SIGTERM at once end the process too, its temporary file removed (the second signal once made it spin forever)")
    func twoSignalsAtOnce() throws {
        let pid = try #require(try stoppedLongWrite("twice.flac"), "the output was finished before the process could be stopped, three times")
        kill(pid, SIGINT)   // both pending when it runs again
        kill(pid, SIGTERM)
        kill(pid, SIGCONT)
        var status: Int32 = 0, ended = false
        let deadline = Date().addingTimeInterval(30)
        while !ended, Date() < deadline {
            ended = waitpid(pid, &status, WNOHANG) == pid
            if !ended { usleep(20_000) }
        }
        if !ended {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
        }
        #expect(ended, "the process did not end within 30 s of SIGINT and SIGTERM")
        #expect([SIGINT, SIGTERM].contains(status & 0x7f), "the process ended with status \(status), not by the signal")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty)
    }

    @Test("SIGTERM during an attention run removes the output folder it made, and the folder above it that it made too")
    func terminatedAttentionRun() throws {
        let watch = try CreationWatch(folder: work)
        defer { close(watch.descriptor) }
        let pid = try spawnWithSignalsUnblocked(try auffusion(), ["attention", "a beep", "--model", model.path, "--steps", "999",
                                                                  "-o", work.appendingPathComponent("runs/maps").path, "--quiet"])
        let created = watch.waitForName(containing: "runs", timeout: 120)
        kill(pid, SIGSTOP)
        var status: Int32 = 0
        let running = waitpid(pid, &status, WNOHANG) == 0   // reaped here when it has ended
        if running {
            kill(pid, SIGTERM)
            kill(pid, SIGCONT)
            waitpid(pid, &status, 0)
        }
        #expect(created)
        try #require(running, "the run ended with status \(status) before the signal")
        #expect(status & 0x7f == SIGTERM, "the run ended with status \(status), not by SIGTERM")
        #expect(try FileManager.default.contentsOfDirectory(atPath: work.path).isEmpty)
    }

    @Test("an output that exists keeps its permissions, a symbolic link is written through to its target, and a read-only file is refused before any work")
    func existingOutputs() throws {
        let input = work.appendingPathComponent("tone.wav")
        try AudioFile.write(AudioBuffer(mono: (0..<16_000).map { Float(0.3 * sin(Double($0) * 0.2)) }, sampleRate: 16_000), to: input)
        func spectrogram(_ output: URL, asNobody: Bool = false) throws -> (exitCode: Int32, standardError: String) {
            try run(["spectrogram", input.path, "-o", output.path], asNobody: asNobody)
        }
        func run(_ arguments: [String], asNobody: Bool) throws -> (exitCode: Int32, standardError: String) {
            guard asNobody else {
                let result = try CommandRunner.run("auffusion", arguments)
                return (result.exitCode, result.standardError)
            }
            // Root may write any file; the refusal is what a user who may not write it sees.
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
            process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", try auffusion().path] + arguments
            let errors = Pipe()
            process.standardError = errors
            try process.run()
            let text = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return (process.terminationStatus, text)
        }
        let manager = FileManager.default
        let kept = work.appendingPathComponent("kept.png")
        try Data("old".utf8).write(to: kept)
        try manager.setAttributes([.posixPermissions: 0o640], ofItemAtPath: kept.path)
        #expect(try spectrogram(kept).exitCode == 0)
        #expect(try manager.attributesOfItem(atPath: kept.path)[.posixPermissions] as? Int == 0o640)

        let target = work.appendingPathComponent("target.png"), link = work.appendingPathComponent("link.png")
        try Data("old".utf8).write(to: target)
        try manager.createSymbolicLink(at: link, withDestinationURL: target)
        #expect(try spectrogram(link).exitCode == 0)
        #expect(try manager.destinationOfSymbolicLink(atPath: link.path) == target.path)
        #expect(try Data(contentsOf: target).prefix(4) == Data([0x89, 0x50, 0x4E, 0x47]))

        let locked = work.appendingPathComponent("locked.png")
        try Data("old".utf8).write(to: locked)
        try manager.setAttributes([.posixPermissions: 0o444], ofItemAtPath: locked.path)
        try manager.setAttributes([.posixPermissions: 0o777], ofItemAtPath: work.path)
        let refused = try spectrogram(locked, asNobody: geteuid() == 0)
        #expect(refused.exitCode == 1 && refused.standardError.contains("read-only"), "\(refused.standardError)")
        #expect(try Data(contentsOf: locked) == Data("old".utf8))
        // The same for audio, which must not be called an input.
        let mel = work.appendingPathComponent("tone.npy"), lockedAudio = work.appendingPathComponent("locked.wav")
        #expect(try CommandRunner.run("auffusion", ["spectrogram", input.path, "-o", work.appendingPathComponent("m.png").path,
                                                    "--mel-npy", mel.path]).exitCode == 0)
        try Data("old".utf8).write(to: lockedAudio)
        try manager.setAttributes([.posixPermissions: 0o444], ofItemAtPath: lockedAudio.path)
        let audio = try run(["vocode", mel.path, "-o", lockedAudio.path, "--iterations", "1"], asNobody: geteuid() == 0)
        #expect(audio.exitCode == 1 && audio.standardError.contains("read-only") && !audio.standardError.contains("input"),
                "\(audio.standardError)")
        // A link into a folder the user may not write is refused before any work, as a path there would be.
        let shared = work.appendingPathComponent("shared"), linked = work.appendingPathComponent("linked.png")
        try manager.createDirectory(at: shared, withIntermediateDirectories: true)
        try Data("old".utf8).write(to: shared.appendingPathComponent("out.png"))
        try manager.setAttributes([.posixPermissions: 0o666], ofItemAtPath: shared.appendingPathComponent("out.png").path)
        try manager.setAttributes([.posixPermissions: 0o555], ofItemAtPath: shared.path)
        try manager.createSymbolicLink(at: linked, withDestinationURL: shared.appendingPathComponent("out.png"))
        if geteuid() == 0 {
            let folder = try spectrogram(linked, asNobody: true)
            #expect(folder.exitCode == 1 && folder.standardError.contains(shared.path), "\(folder.standardError)")
        }
    }
}

/// Starts `executable` as a scheduler or a shell would: no signal blocked, SIGINT and SIGTERM at
/// their default action (a test runs on threads that block them, and `Process` would pass that on).
private func spawnWithSignalsUnblocked(_ executable: URL, _ arguments: [String]) throws -> pid_t {
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var none = sigset_t(), interrupts = sigset_t()
    sigemptyset(&none)
    sigemptyset(&interrupts)
    sigaddset(&interrupts, SIGINT)
    sigaddset(&interrupts, SIGTERM)
    posix_spawnattr_setsigmask(&attributes, &none)
    posix_spawnattr_setsigdefault(&attributes, &interrupts)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    // Descriptors past stderr closed: the pipes of another test's command, open at this moment,
    // would otherwise stay open in this long run and keep that test waiting for their end.
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    typealias CloseFrom = @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32
    let closeFrom = try #require(dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np"),
                                 "glibc 2.34 or later")   // not in Swift's Glibc module
    _ = unsafeBitCast(closeFrom, to: CloseFrom.self)(&actions, 3)
    let argv = ([executable.path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid = pid_t()
    let status = posix_spawn(&pid, executable.path, &actions, &attributes, argv, environ)
    try #require(status == 0, "posix_spawn: \(String(cString: strerror(status)))")
    return pid
}

/// Files created in a folder, as inotify reports them.
private struct CreationWatch {
    let descriptor: Int32

    init(folder: URL) throws {
        descriptor = inotify_init1(Int32(IN_CLOEXEC))
        try #require(descriptor >= 0 && inotify_add_watch(descriptor, folder.path, UInt32(IN_CREATE)) >= 0)
    }

    /// Waits until a file whose name contains `part` is created; `false` after `timeout` seconds.
    func waitForName(containing part: String, timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 4096)
        while Date() < deadline {
            var ready = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
            guard poll(&ready, 1, 100) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            var offset = 0
            while offset + MemoryLayout<inotify_event>.size <= count {
                let length = buffer.withUnsafeBytes { Int($0.load(fromByteOffset: offset + 12, as: UInt32.self)) }
                let start = offset + MemoryLayout<inotify_event>.size
                let name = String(decoding: buffer[start..<start + length].prefix { $0 != 0 }, as: UTF8.self)
                if name.contains(part) { return true }
                offset = start + length
            }
        }
        return false
    }
}

/// The threads of another process as /proc shows them, and signals sent to one of them.
private enum ThreadSignals {
    struct Thread {
        var id: Int32
        /// Whether it sleeps in `sigwait` (the process's own signal thread).
        var isWaiting: Bool
    }

    /// The threads of `pid` that do not block `signal`.
    static func threadsTaking(_ signal: Int32, of pid: Int32) throws -> [Thread] {
        let tasks = URL(fileURLWithPath: "/proc/\(pid)/task")
        return try FileManager.default.contentsOfDirectory(atPath: tasks.path).compactMap { name in
            let folder = tasks.appendingPathComponent(name)
            // A thread may end between the listing and the reading.
            guard let status = try? String(contentsOf: folder.appendingPathComponent("status"), encoding: .utf8),
                  let line = status.split(separator: "\n").first(where: { $0.hasPrefix("SigBlk:") }),
                  let blocked = UInt64(line.dropFirst("SigBlk:".count).trimmingCharacters(in: .whitespaces), radix: 16),
                  blocked & (1 << UInt64(signal - 1)) == 0, let id = Int32(name) else { return nil }
            let channel = (try? String(contentsOf: folder.appendingPathComponent("wchan"), encoding: .utf8)) ?? ""
            return Thread(id: id, isWaiting: channel.contains("sigtimedwait"))
        }
    }

    /// `tgkill(2)`, which Swift's Glibc module does not declare.
    static func send(_ signal: Int32, to thread: Int32, of pid: Int32) {
        typealias ThreadKill = @convention(c) (Int32, Int32, Int32) -> Int32
        guard let symbol = dlsym(nil, "tgkill") else { return }
        _ = unsafeBitCast(symbol, to: ThreadKill.self)(pid, thread, signal)
    }
}
