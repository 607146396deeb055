import Foundation

/// The temporary files of writes in progress (``AtomicFile/temporaryURL(besides:)`` until
/// ``AtomicFile/commit(_:to:)``), so that an interrupted run leaves none behind: after
/// ``removeOnInterrupt()``, SIGINT and SIGTERM (Ctrl-C, `kill`, `scancel`, a Kubernetes pod
/// stopping) delete them before the process ends by the same signal (exit status 128 + signal,
/// 130 for Ctrl-C). `kill -9` cannot be caught; what it leaves is a hidden
/// `.NAME.NNN.partial.EXT` file, never a half-written output. Folders a run made for outputs
/// still to come (``MadeFolders``) are removed too, when that leaves them empty.
public final class PendingFiles: @unchecked Sendable {
    /// The process's one registry.
    public static let shared = PendingFiles()

    private let lock = NSLock()
    /// Held while a run's outputs are renamed into place (``uninterrupted(_:)``); the interrupt waits for it.
    private let together = NSLock()
    private var paths: Set<String> = []
    /// Folders made for outputs still to come, each after its parent.
    private var folders: [String] = []
    private var handling = false

    private init() {}

    /// Runs `body` (a few renames, ``AtomicFile/committingTogether(_:)``) with no interrupt
    /// taking effect in its middle: one that arrives meanwhile ends the process once it returns.
    func uninterrupted<Value>(_ body: () throws -> Value) rethrows -> Value {
        together.lock()
        defer { together.unlock() }
        return try body()
    }

    func insert(_ url: URL) { lock.withLock { _ = paths.insert(url.path) } }

    func remove(_ url: URL) { lock.withLock { _ = paths.remove(url.path) } }

    /// Makes `urls`, each after its parent, and registers them, with no interrupt in between: the
    /// cleanup waits for the lock. A failure removes those already made.
    func makeFolders(_ urls: [URL]) throws {
        try lock.withLock {
            var made: [URL] = []
            do {
                for url in urls {
                    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: false)
                    made.append(url)
                }
            } catch {
                for url in made.reversed() { rmdir(url.path) }
                throw error
            }
            folders += made.map(\.path)
        }
    }

    /// Forgets `urls`; with `removingEmpty`, removes those that are empty first, deepest first,
    /// with no interrupt in between.
    func removeFolders(_ urls: [URL], removingEmpty: Bool = false) {
        let leaving = Set(urls.map(\.path))
        lock.withLock {
            if removingEmpty { urls.reversed().forEach { rmdir($0.path) } }
            folders.removeAll(where: leaving.contains)
        }
    }

    /// The paths pending now.
    public var pending: [String] { lock.withLock { paths.sorted() } }

    /// Handles SIGINT and SIGTERM from now on: remove the pending files, then die of the signal as
    /// if it had not been caught. Call it first thing in `main`, before other threads start: the
    /// signals are blocked in this thread (and so in every thread it starts later) and taken by
    /// one thread that waits for them (`sigwait`), so the cleanup runs as ordinary code, not in a
    /// signal handler. It holds the lock until the process ends, so no thread can start another
    /// temporary file meanwhile.
    ///
    /// Threads that libraries started before `main` (OpenBLAS's pool) do not block the signals,
    /// and the kernel may deliver a process's signal to any of them: there a handler passes it on
    /// to the waiting thread, instead of the default action ending the process before the cleanup.
    public func removeOnInterrupt() {
        lock.withLock {
            guard !handling else { return }
            handling = true
            var signals = sigset_t()
            sigemptyset(&signals)
            sigaddset(&signals, SIGINT)
            sigaddset(&signals, SIGTERM)
            pthread_sigmask(SIG_BLOCK, &signals, nil)
            let started = DispatchSemaphore(value: 0)
            let waiter = Thread { [self, signals] in
                signalWaiter = pthread_self()
                started.signal()
                var signals = signals, received: Int32 = 0
                guard sigwait(&signals, &received) == 0 else { return }
                together.lock()
                lock.lock()
                for path in paths { unlink(path) }
                for folder in folders.reversed() { rmdir(folder) }   // only an empty folder goes
                // Both back to their default before either is unblocked: the other may be pending
                // too (INT and TERM at once), and must end the process as well, not reach the
                // handler that passes it to this thread, which no longer waits.
                signal(SIGINT, SIG_DFL)
                signal(SIGTERM, SIG_DFL)
                pthread_sigmask(SIG_UNBLOCK, &signals, nil)
                raise(received)
            }
            waiter.start()
            started.wait()
            var forward = sigaction()
            forward.__sigaction_handler.sa_handler = { received in _ = pthread_kill(signalWaiter, received) }
            sigaction(SIGINT, &forward, nil)
            sigaction(SIGTERM, &forward, nil)
        }
    }
}

/// The thread that takes SIGINT and SIGTERM; written once, before the handler that reads it is
/// installed.
nonisolated(unsafe) private var signalWaiter = pthread_t()
