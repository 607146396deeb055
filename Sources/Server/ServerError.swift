import Foundation
import Hummingbird

/// A refused request: an HTTP status and one sentence a person can act on, sent as
/// `{"error": "…"}`. Every error the API returns has this shape (``JSONErrorMiddleware``).
public struct ServerError: Error, HTTPResponseError, CustomStringConvertible {
    public let status: HTTPResponse.Status
    public let message: String

    public init(_ status: HTTPResponse.Status, _ message: String) {
        self.status = status
        self.message = message
    }

    public var description: String { "\(status.code) \(message)" }

    static func badRequest(_ message: String) -> ServerError { ServerError(.badRequest, message) }
    static func notFound(_ message: String) -> ServerError { ServerError(.notFound, message) }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.response(status: status, message: message)
    }

    /// The JSON response for `message`.
    static func response(status: HTTPResponse.Status, message: String) -> Response {
        let body = (try? JSONEncoder().encode(["error": message])) ?? Data("{}".utf8)
        return Response(status: status, headers: [.contentType: "application/json; charset=utf-8", .cacheControl: "no-store"],
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// Turns every error a handler throws into ``ServerError``'s JSON shape: Hummingbird's own
/// (an unknown route, a body over the limit) keep their status; anything else is a 500 that
/// names the error, and the server goes on serving.
struct JSONErrorMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as ServerError {
            throw error
        } catch let error as HTTPError {
            let message = error.body ?? (error.status == .notFound ? "no such page or API route: \(request.uri.path)" : error.status.reasonPhrase)
            throw ServerError(error.status, message)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw ServerError(.contentTooLarge, "the request body is too large")
        } catch {
            context.logger.error("request \(request.uri.path) failed: \(error)")
            throw ServerError(.internalServerError, "the server failed: \(error)")
        }
    }
}
