import AudioDSP
import Foundation
import Hummingbird
import Logging
import NIOCore
import Pipeline

/// `auffusion serve`: the browser editor's HTTP server — one page and a JSON API over one model
/// loaded once (docs/serve.md).
///
/// ```swift
/// let server = try EditorServer(configuration: ServerConfiguration(workFolder: folder), pipeline: pipeline)
/// try await server.run()
/// ```
public final class EditorServer: Sendable {
    public let configuration: ServerConfiguration
    let pipeline: AuffusionPipeline
    let folder: WorkFolder
    let queue: JobQueue
    let runner: EditRunner
    let page: PageFiles
    let uploads = UploadLane(capacity: 4)
    /// The most steps the model's own scheduler takes, for the page's Steps field.
    let maximumSteps: Int

    /// Prepares the work folder (applying the expiry rule to what an earlier run left) and starts
    /// the job thread.
    /// - Throws: ``ServerConfigurationError``; errors creating the work folder; ``PageFiles`` not found.
    public init(configuration: ServerConfiguration, pipeline: AuffusionPipeline) throws {
        try configuration.validate()
        self.configuration = configuration
        self.pipeline = pipeline
        folder = try WorkFolder(root: configuration.workFolder, expiry: configuration.expirySeconds)
        queue = JobQueue(capacity: configuration.maximumQueuedJobs, finishedLimit: configuration.rememberedJobs)
        runner = EditRunner(pipeline: pipeline, folder: folder)
        page = try PageFiles()
        maximumSteps = try pipeline.makeScheduler(nil).largestStepCount()
        let root = folder.root.path
        queue.start(keepAlive: configuration.keepAliveSeconds) { Self.describe($0, hidingFolder: root) }
    }

    /// Every route of the page and the API (docs/serve-openapi.json describes them), behind the
    /// JSON error and access middlewares; a known path asked with another method gets 405.
    public func router() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        let routes = RouteTable()
        router.middlewares.add(JSONErrorMiddleware(routes: routes))
        router.middlewares.add(AccessMiddleware(token: configuration.token, loopbackOnly: configuration.isLoopback))
        addPageRoutes(to: router, routes)
        addClipRoutes(to: router, routes)
        addJobRoutes(to: router, routes)
        return router
    }

    /// The application: the router bound to the configured address, closing idle connections and
    /// those past the limit (``ConnectionLimit``, with the process's open-file limit raised for
    /// them); `onStart` hears the port it listens on (the one chosen when the configuration says 0).
    public func application(logger: Logger = Logger(label: "auffusion-serve"),
                            onStart: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let idle = TimeAmount.nanoseconds(Int64(configuration.idleSeconds * 1e9))
        let count = ConnectionLimit.Count(limit: ConnectionLimit.raiseFileLimit(for: configuration.maximumConnections))
        return Application(router: router(),
                           server: .http1(configuration: .init(additionalChannelHandlers: [ConnectionLimit(count)], idleTimeout: idle)),
                           configuration: ApplicationConfiguration(address: .hostname(configuration.host, port: configuration.port),
                                                                   serverName: "auffusion"),
                           onServerRunning: { channel in await onStart(channel.localAddress?.port ?? 0) },
                           logger: logger)
    }

    /// Serves until the process is stopped, logging warnings and errors (not Hummingbird's
    /// "server started": `onStart` hears the port, for the caller to say what to open).
    public func run(onStart: @escaping @Sendable (Int) async -> Void = { _ in }) async throws {
        var logger = Logger(label: "auffusion-serve")
        logger.logLevel = .warning
        try await application(logger: logger, onStart: onStart).runService()
    }

    /// A job's error as a person reads it, its files named as the API names them: the server's
    /// own folders (`root/clips/ID/`) are its business, not the client's.
    package static func describe(_ error: any Error, hidingFolder root: String) -> String {
        let message = switch error {
        case let error as ServerError: error.message
        case let error as CustomStringConvertible: error.description
        default: "\(error)"
        }
        // As given and with its links resolved (a destination is named resolved).
        let roots = Set([root, URL(fileURLWithPath: root).resolvingSymlinksInPath().path])
        return roots.reduce(message) { text, root in
            text.replacingOccurrences(of: NSRegularExpression.escapedPattern(for: root + "/clips/") + "[0-9a-f]{32}/", with: "",
                                      options: .regularExpression)
        }
    }

    /// The seconds of the model's canvas.
    var canvasSeconds: Double { Double(pipeline.canvasFrames) / pipeline.melParameters.framesPerSecond }

    /// Applies the expiry rule now, then refuses new work while the disk has less free than
    /// ``ServerConfiguration/minimumFreeBytes``.
    /// - Throws: ``ServerError`` (507).
    func sweep() throws {
        let expired = folder.sweep(busy: queue.busyClips())
        queue.forget(clips: Set(expired), finishedBefore: Date().addingTimeInterval(-configuration.expirySeconds))
        let free = (try? FileManager.default.attributesOfFileSystem(forPath: folder.root.path))?[.systemFreeSize] as? Int
        if let free, free < configuration.minimumFreeBytes {
            throw ServerError.diskFull(String(format: "the server's disk has %.1f GB free, less than the %.1f GB it keeps free",
                                              Double(free) / 1e9, Double(configuration.minimumFreeBytes) / 1e9))
        }
    }
}

/// JSON responses.
extension Encodable {
    func jsonResponse(status: HTTPResponse.Status = .ok) throws -> Response {
        let data = try EditRunner.encoder.encode(self)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }
}
