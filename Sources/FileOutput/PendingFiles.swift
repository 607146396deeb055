import Dispatch
import Foundation

/// The temporary files of writes in progress (``AtomicFile/temporaryURL(besides:)`` until
/// ``AtomicFile/commit(_:to:)``), so that an interrupted run leaves none behind: after
/// ``removeOnInterrupt()``, SIGINT and SIGTERM (Ctrl-C, `kill`, `scancel`, a Kubernetes pod
/// stopping) delete them before the process ends by the same signal (exit status 128 + signal,
/// 130 for Ctrl-C). `kill -9` cannot be caught; what it leaves is a hidden
/// `.NAME.NNN.partial.EXT` file, never a half-written output.
public final class PendingFiles: @unchecked Sendable {
    /// The process's one registry.
    public static let shared = PendingFiles()

    private let lock = NSLock()
    private var paths: Set<String> = []
    private var sources: [any DispatchSourceSignal] = []

    private init() {}

    func insert(_ url: URL) { lock.withLock { _ = paths.insert(url.path) } }

    func remove(_ url: URL) { lock.withLock { _ = paths.remove(url.path) } }

    /// The paths pending now.
    public var pending: [String] { lock.withLock { paths.sorted() } }

    /// Handles SIGINT and SIGTERM from now on: remove the pending files, then die of the signal as
    /// if it had not been caught. The handler runs on a dispatch queue, not inside the signal
    /// handler, so it may take the lock and call into Foundation; it holds the lock until the
    /// process ends, so no other thread can start a temporary file meanwhile.
    public func removeOnInterrupt() {
        lock.withLock {
            guard sources.isEmpty else { return }
            for signalNumber in [SIGINT, SIGTERM] {
                signal(signalNumber, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .global())
                source.setEventHandler { [self] in
                    lock.lock()
                    for path in paths { unlink(path) }
                    signal(signalNumber, SIG_DFL)
                    raise(signalNumber)
                }
                source.resume()
                sources.append(source)
            }
        }
    }
}
