import Foundation
import NIOCore

/// Closes each connection beyond ``ServerConfiguration/maximumConnections`` open at once, as it
/// opens. Every connection holds a file descriptor; a client that opened thousands (silent ones
/// stay until `--idle-seconds`) once took every descriptor the process may hold, and the thread
/// pool then trapped when it could not open one. One handler per connection, one count for all.
final class ConnectionLimit: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = NIOAny

    /// The connections open now, of at most `limit`.
    final class Count: @unchecked Sendable {   // `open` behind `lock`
        let limit: Int
        private let lock = NSLock()
        private var open = 0

        init(limit: Int) { self.limit = limit }

        /// Counts a connection in; whether it is within the limit.
        func enter() -> Bool { lock.withLock { open += 1; return open <= limit } }

        func leave() { lock.withLock { open -= 1 } }
    }

    private let count: Count

    init(_ count: Count) { self.count = count }

    func channelActive(context: ChannelHandlerContext) {
        if !count.enter() { context.close(promise: nil) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        count.leave()
        context.fireChannelInactive()
    }

    /// Raises this process's soft limit on open files towards its hard limit, to leave room for
    /// `connections`, two descriptors each (the socket, and the file a download streams), besides
    /// the model's files; returns the connections the limit leaves room for.
    static func raiseFileLimit(for connections: Int) -> Int {
        let reserve = 256   // the model, the work folder's files, the job thread's reads and writes
        let files = Int32(RLIMIT_NOFILE.rawValue)
        var limits = rlimit()
        guard getrlimit(files, &limits) == 0 else { return connections }
        let wanted = rlim_t(2 * connections + reserve)
        if limits.rlim_cur < wanted {
            limits.rlim_cur = min(wanted, limits.rlim_max)
            _ = setrlimit(files, &limits)
            _ = getrlimit(files, &limits)
        }
        return max(1, min(connections, (Int(clamping: limits.rlim_cur) - reserve) / 2))
    }
}
