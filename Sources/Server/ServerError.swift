import AudioDSP
import FileOutput
import Foundation
import Hummingbird

/// A refused request: an HTTP status and one sentence a person can act on, sent as
/// `{"error": "…"}`. Every error the API returns has this shape (``JSONErrorMiddleware``).
public struct ServerError: Error, HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String
    /// For 405, the methods the path answers (the `Allow` header).
    let allowedMethods: [HTTPRequest.Method]

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.init(status, message, allowedMethods: [])
    }

    init(_ status: HTTPResponse.Status, _ message: String, allowedMethods: [HTTPRequest.Method]) {
        self.status = status
        self.message = message
        self.allowedMethods = allowedMethods
    }

    public var description: String { "\(status.code) \(message)" }

    static func badRequest(_ message: String) -> ServerError { ServerError(.badRequest, message) }
    static func notFound(_ message: String) -> ServerError { ServerError(.notFound, message) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Self.response(status: status, message: message)
        if !allowedMethods.isEmpty { response.headers[.allow] = allowedMethods.map(\.rawValue).joined(separator: ", ") }
        return response
    }

    /// The JSON response for `message`.
    static func response(status: HTTPResponse.Status, message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": message])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns every error a handler throws into ``ServerError``'s JSON shape: Hummingbird's own
/// (an unknown route, a body over the limit) keep their status, except that a path of `routes`
/// asked with a method none of its routes answers is 405, not 404; a full disk is 507; anything
/// else is a 500, the error in the server's log, and the server goes on serving.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    let routes: RouteTable

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServerError {
            throw error
        } catch let error as HTTPError where error.status == .notFound && error.body == nil {
            let allowed = routes.methods(at: request.uri.path)
            guard !allowed.isEmpty else { throw ServerError(.notFound, "no such page or API route: \(request.uri.path.prefix(200))") }
            throw ServerError(.methodNotAllowed, "\(request.uri.path.prefix(200)) answers \(allowed.map(\.rawValue).joined(separator: ", ")), not \(request.method.rawValue)",
                              allowedMethods: allowed)
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound ? "no such page or API route: \(request.uri.path)" : error.status.reasonPhrase)
            throw ServerError(error.status, message)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw ServerError(.contentTooLarge, "the request body is too large")
        } catch {
            context.logger.error("request \(request.uri.path) failed: \(error)")
            throw ServerError.unexpected(error)
        }
    }
}

extension ServerError {
    /// What the client is told of an error no route expected: a full disk as 507, anything else
    /// as a 500 whose details (paths of the server's folders among them) go to the log only.
    package static func unexpected(_ error: any Error) -> ServerError {
        let full = switch error {
        case AtomicFile.Error.noSpace, AudioFileError.noSpace: true
        case let error as CocoaError: error.code == .fileWriteOutOfSpace
        default: (error as NSError).domain == NSPOSIXErrorDomain && AtomicFile.meansNoSpace(Int32((error as NSError).code))
        }
        return full ? .diskFull("the server's disk is full") : ServerError(.internalServerError, "the server failed; its log says why")
    }

    /// 507: the work folder's disk is full, or too near it (`reason`).
    static func diskFull(_ reason: String) -> ServerError {
        ServerError(HTTPResponse.Status(code: 507, reasonPhrase: "Insufficient Storage"),
                    "\(reason); try again once clips have expired or space is freed")
    }
}
