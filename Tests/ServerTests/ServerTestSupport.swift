import Foundation
import Hummingbird
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import Pipeline
import Server
import ServiceLifecycle
import Testing
import TestSupport

/// A server over the tiny fixture pipeline (fast steps) in a fresh work folder, and helpers to
/// speak its API over a real loopback socket.
struct TestServer {
    let server: EditorServer
    let workFolder: URL
    let modelFolder: URL

    init(configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        modelFolder = try PipelineFolders.folder("standard")
        workFolder = try Fixtures.temporaryDirectory().appendingPathComponent("work")
        var configuration = ServerConfiguration(workFolder: workFolder)
        configuration.port = 0
        configuration.minimumFreeBytes = 0   // whatever the test machine's disk holds; `keepsDiskFree` sets it
        configure(&configuration)
        server = try EditorServer(configuration: configuration, pipeline: try AuffusionPipeline(folder: modelFolder))
    }

    /// Serves on a free loopback port while `body` runs with a client of it, then shuts down
    /// gracefully (every connection of the client is closed by then). The server's and the
    /// client's tasks run on ``OwnThread``, not on Swift's shared pool.
    func test<Value: Sendable>(_ body: @Sendable (LoopbackClient) async throws -> Value) async throws -> Value {
        try await withTaskExecutorPreference(OwnThread.shared) { try await serve(body) }
    }

    private func serve<Value: Sendable>(_ body: @Sendable (LoopbackClient) async throws -> Value) async throws -> Value {
        let (ports, started) = AsyncStream.makeStream(of: Int.self)
        let services = ServiceGroup(services: [server.application { port in
            started.yield(port)
            started.finish()
        }], logger: Logger(label: "auffusion-serve-test"))
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await services.run() }
            do {
                var iterator = ports.makeAsyncIterator()
                let port = try #require(await iterator.next(), "the server did not start")
                let value = try await body(LoopbackClient(port: port))
                await services.triggerGracefulShutdown()
                return value
            } catch {
                await services.triggerGracefulShutdown()
                throw error
            }
        }
    }

    static let clip = Fixtures.url("editing/clip.wav")

    /// Expects `auffusion edit` to replay `version` of `clip` from its plan and seed, in a folder
    /// holding only the parent's file `input` and the plan, to the bytes the server wrote.
    func expectReplay(clip: String, input: String, version: String, seed: Int) throws {
        let folder = workFolder.appendingPathComponent("clips/\(clip)")
        let plan = version.split(separator: ".")[0] + ".plan.json"
        let replay = try Fixtures.temporaryDirectory()
        for name in [input, String(plan)] {
            try FileManager.default.copyItem(at: folder.appendingPathComponent(name), to: replay.appendingPathComponent(name))
        }
        let result = try CommandRunner.run("auffusion", ["edit", replay.appendingPathComponent(String(plan)).path,
                                                        "--model", modelFolder.path, "--seed", "\(seed)", "--quiet"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let served = try Data(contentsOf: folder.appendingPathComponent(version))
        #expect(try Data(contentsOf: replay.appendingPathComponent(version)) == served, "\(version) replayed differs from the server's")
    }
}

/// A task executor on a thread of its own. The tests of the models run for minutes on every
/// thread of Swift's shared pool (one per core); requests handled there would wait behind them
/// while a job, on the server's own thread, steps on, and a test of the queue or of cancelling
/// would see the job finish before it could look.
final class OwnThread: TaskExecutor {
    static let shared = OwnThread()
    private let queue = DispatchQueue(label: "auffusion-serve-tests")

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        queue.async { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// A response, whole.
struct TestResponse: Sendable {
    var status: HTTPResponse.Status
    var headers: HTTPFields
    var body: ByteBuffer
}

/// A minimal HTTP/1.1 client: one connection per request (`Connection: close`), the response
/// read to its end (a server-sent event stream until the server ends it).
struct LoopbackClient: Sendable {
    let port: Int

    /// The `Host` a browser on this machine sends.
    var authority: String { "localhost:\(port)" }

    /// Sends one request with `Host: host` (default ``authority``) and hands the whole response to `check`.
    @discardableResult
    func execute<Value>(uri: String, method: HTTPRequest.Method, host: String? = nil, headers: HTTPFields = [:], body: ByteBuffer? = nil,
                        _ check: (TestResponse) async throws -> Value = { _ in () }) async throws -> Value {
        try await check(send(uri: uri, method: method, host: host, headers: headers, body: body) { _ in })
    }

    /// GETs `uri` (an event stream), telling `received` each part of the body as it arrives; returns the whole response.
    func stream(_ uri: String, received: (ByteBuffer) async throws -> Void) async throws -> TestResponse {
        try await send(uri: uri, method: .get, host: nil, headers: [:], body: nil, received: received)
    }

    private func send(uri: String, method: HTTPRequest.Method, host: String?, headers: HTTPFields, body: ByteBuffer?,
                      received: (ByteBuffer) async throws -> Void) async throws -> TestResponse {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method.rawValue), uri: uri)
        head.headers.add(name: "Host", value: host ?? authority)
        for field in headers { head.headers.add(name: field.name.rawName, value: field.value) }
        head.headers.add(name: "Content-Length", value: "\(body?.readableBytes ?? 0)")
        head.headers.add(name: "Connection", value: "close")
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(wrappingChannelSynchronously: channel)
                }
            }
        return try await channel.executeThenClose { inbound, outbound in
            // One write, one flush: a server that answers as soon as it has the head (a GET)
            // and closes must not find half a request still to come.
            let parts: [HTTPClientRequestPart] = [.head(head)] + (body.map { [.body(.byteBuffer($0))] } ?? []) + [.end(nil)]
            try await outbound.write(contentsOf: parts)
            var response: TestResponse?
            for try await part in inbound {
                switch part {
                case .head(let head):
                    var fields = HTTPFields()
                    for (name, value) in head.headers { fields.append(.init(name: .init(name)!, value: value)) }
                    response = TestResponse(status: HTTPResponse.Status(code: Int(head.status.code), reasonPhrase: head.status.reasonPhrase),
                                            headers: fields, body: ByteBuffer())
                case .body(var bytes):
                    try await received(bytes)
                    response?.body.writeBuffer(&bytes)
                case .end:
                    if let response { return response }
                }
            }
            throw LoopbackError(uri: uri)
        }
    }
}

extension LoopbackClient {
    /// Opens a connection, writes `bytes` (perhaps half a request) and then nothing; returns the
    /// seconds until the server closes it, or `nil` if it is still open after `limit` seconds.
    func secondsUntilClosed(afterSending bytes: String, limit: Double) async throws -> Double? {
        let start = Date()   // before the server accepts: its idle timer starts there
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        return try await channel.executeThenClose { inbound, outbound in
            if !bytes.isEmpty { try await outbound.write(ByteBuffer(string: bytes)) }
            return try await withThrowingTaskGroup(of: Double?.self) { group in
                group.addTask {
                    for try await _ in inbound {}
                    return Date().timeIntervalSince(start)
                }
                group.addTask {
                    try await Task.sleep(for: .seconds(limit))
                    return nil
                }
                let first = try await group.next() ?? nil
                group.cancelAll()
                return first
            }
        }
    }
}

/// The server closed a connection before a whole response.
struct LoopbackError: Error, CustomStringConvertible {
    var uri: String
    var description: String { "no complete response to \(uri)" }
}

/// A JSON body.
func json(_ text: String) -> ByteBuffer { ByteBuffer(string: text) }

/// The decoded JSON object of a response.
func object(_ response: TestResponse) throws -> [String: Any] {
    let value = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
    return try #require(value as? [String: Any], "not an object: \(String(buffer: response.body))")
}

/// The `"error"` message of a refused request.
func errorMessage(_ response: TestResponse) -> String {
    ((try? object(response))?["error"] as? String) ?? String(buffer: response.body)
}

extension LoopbackClient {
    /// Uploads `url` as `name`; returns the clip's id.
    func upload(_ url: URL, name: String = "clip.wav", headers: HTTPFields = [:]) async throws -> String {
        let data = try Data(contentsOf: url)
        return try await execute(uri: "/api/clips?name=\(name)", method: .post, headers: headers, body: ByteBuffer(bytes: data)) { response in
            #expect(response.status == .created, "\(String(buffer: response.body))")
            return try #require(try object(response)["id"] as? String)
        }
    }

    /// Submits an edit; returns the job's id.
    func submit(_ body: String, headers: HTTPFields = [:]) async throws -> String {
        try await execute(uri: "/api/jobs", method: .post, headers: headers, body: json(body)) { response in
            #expect(response.status == .accepted, "\(String(buffer: response.body))")
            return try #require(try object(response)["id"] as? String)
        }
    }

    /// The job's status object.
    func status(_ job: String) async throws -> [String: Any] {
        try await execute(uri: "/api/jobs/\(job)", method: .get) { try object($0) }
    }

    /// Polls job `job` until it is final (at most `timeout` seconds); returns its last status.
    func wait(_ job: String, timeout: Double = 120) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            let status = try await status(job)
            if let state = status["state"] as? String, ["done", "failed", "cancelled"].contains(state) { return status }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("job \(job) did not finish in \(timeout) s")
        return try await status(job)
    }

    /// The bytes of file `name` of clip `clip`.
    func file(_ name: String, of clip: String) async throws -> Data {
        try await execute(uri: "/api/clips/\(clip)/files/\(name)", method: .get) { response in
            #expect(response.status == .ok, "\(name): \(String(buffer: response.body))")
            return Data(response.body.readableBytesView)
        }
    }

    /// The clip's versions.
    func versions(of clip: String) async throws -> [[String: Any]] {
        try await execute(uri: "/api/clips/\(clip)", method: .get) { try object($0)["versions"] as? [[String: Any]] ?? [] }
    }
}
