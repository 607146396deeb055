import Foundation

/// The settings of `auffusion serve`: where it listens, where it keeps files, what it accepts and
/// for how long it keeps it (docs/serve.md, "Security model").
public struct ServerConfiguration: Sendable, Equatable {
    /// The address to bind; loopback by default. Any other address needs a ``token``.
    public var host = "127.0.0.1"
    public var port = 8080
    /// The work folder: uploads, results, plans and attention maps live here and nowhere else.
    public var workFolder: URL
    /// The secret every API request must carry (`Authorization: Bearer …` or `?token=…`);
    /// `nil` on loopback means no token is asked for.
    public var token: String?
    /// The largest upload accepted, in bytes.
    public var maximumUploadBytes = 50 << 20
    /// The longest upload accepted, in seconds of audio.
    public var maximumUploadSeconds = 600.0
    /// The most memory one upload may take decoded (float samples): ``maximumUploadSeconds`` of
    /// 48 kHz stereo. A compressed file of many channels at a high rate could otherwise pass the
    /// byte and second limits and still decode to gigabytes.
    public var maximumDecodedBytes: Int { Int(min(maximumUploadSeconds * 48_000 * 2 * 4, Double(Int.max / 2))) }
    /// Jobs waiting behind the running one before new ones are refused.
    public var maximumQueuedJobs = 8
    /// Finished jobs whose status the server still answers; past it the oldest is forgotten.
    public var rememberedJobs = 1000
    /// Uploads and jobs are refused (507) while the work folder's disk has less free than this:
    /// results and converted uploads are kept for a day, and must not fill the machine's disk.
    public var minimumFreeBytes = 512 << 20
    /// A clip (its upload, versions and finished jobs) is deleted this long after its last new version.
    public var expirySeconds: TimeInterval = 24 * 3600
    /// A connection that sends nothing for this long, between requests or in the middle of one
    /// (a stalled upload), is closed; a response being written (a download, a job's event
    /// stream) is never cut.
    public var idleSeconds: TimeInterval = 60
    /// Connections open at once; one more is closed as it opens (a browser opens six at most).
    public var maximumConnections = 512
    /// A job's event stream sends a comment this often, so that the stream of a client that has
    /// gone ends.
    public var keepAliveSeconds = 15.0

    public init(workFolder: URL) { self.workFolder = workFolder }

    /// Hosts that reach this machine only.
    static let loopbackHosts: Set<String> = ["127.0.0.1", "localhost", "::1", "[::1]"]

    /// Whether ``host`` is a loopback address.
    public var isLoopback: Bool { Self.loopbackHosts.contains(host.lowercased()) }

    /// Whether a request's `Host` (`127.0.0.1:8080`, `[::1]:8080`, `localhost`) names a loopback
    /// address: a server on loopback answers no other, against DNS rebinding.
    public static func isLoopback(authority: String) -> Bool {
        let name = if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
            String(authority[...end])
        } else {
            authority.split(separator: ":", maxSplits: 1).first.map(String.init) ?? authority
        }
        return loopbackHosts.contains(name.lowercased())
    }

    /// Checks the values, and that a non-loopback address has a token.
    /// - Throws: ``ServerConfigurationError`` naming the option.
    public func validate() throws {
        func fail(_ option: String, _ reason: String) -> ServerConfigurationError { .invalid(option: option, reason: reason) }
        guard (0...65535).contains(port) else { throw fail("--port", "must be in 0…65535, got \(port)") }
        guard maximumUploadBytes > 0 else { throw fail("--max-upload-mb", "must be positive") }
        guard maximumUploadSeconds > 0, maximumUploadSeconds.isFinite else { throw fail("--max-seconds", "must be positive") }
        guard maximumQueuedJobs >= 0 else { throw fail("--max-queue", "must be at least 0") }
        guard expirySeconds > 0, expirySeconds.isFinite else { throw fail("--keep-hours", "must be positive") }
        guard idleSeconds > 0, idleSeconds <= 86_400 else { throw fail("--idle-seconds", "must be in (0, 86400], got \(idleSeconds)") }
        guard maximumConnections > 0 else { throw fail("maximumConnections", "must be positive") }
        guard rememberedJobs > 0 else { throw fail("rememberedJobs", "must be positive") }
        guard minimumFreeBytes >= 0 else { throw fail("minimumFreeBytes", "must be at least 0") }
        guard keepAliveSeconds > 0, keepAliveSeconds.isFinite else { throw fail("keepAliveSeconds", "must be positive") }
        if let token, token.count < 16 || !token.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }) {
            throw fail("--token", "give at least 16 letters, digits, - or _")
        }
        guard isLoopback || token != nil else {
            throw fail("--host", "\(host) is reachable from other machines; give --token T (or let serve make one)")
        }
    }

    /// A new random token: 32 hex digits (128 bits) from the system's generator.
    public static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in String(format: "%08x", UInt32.random(in: .min ... .max, using: &generator)) }.joined()
    }
}

/// A setting `auffusion serve` cannot start with.
public enum ServerConfigurationError: Error, Equatable, CustomStringConvertible {
    case invalid(option: String, reason: String)

    public var description: String {
        switch self {
        case .invalid(let option, let reason): "\(option): \(reason)"
        }
    }
}
