import Foundation
import Hummingbird
import HummingbirdTesting
import Pipeline
import Server
import Testing
import TestSupport

/// A server over the tiny fixture pipeline (fast steps) in a fresh work folder, and helpers to
/// speak its API through Hummingbird's router test client.
struct TestServer {
    let server: EditorServer
    let workFolder: URL
    let modelFolder: URL

    init(configure: (inout ServerConfiguration) -> Void = { _ in }) throws {
        modelFolder = try PipelineFolders.folder("standard")
        workFolder = try Fixtures.temporaryDirectory().appendingPathComponent("work")
        var configuration = ServerConfiguration(workFolder: workFolder)
        configure(&configuration)
        server = try EditorServer(configuration: configuration, pipeline: try AuffusionPipeline(folder: modelFolder))
    }

    /// Runs `body` with a client talking to the router.
    func test<Value: Sendable>(_ body: @Sendable (any TestClientProtocol) async throws -> Value) async throws -> Value {
        try await server.application().test(.router, body)
    }

    static let clip = Fixtures.url("editing/clip.wav")
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

extension TestClientProtocol {
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
