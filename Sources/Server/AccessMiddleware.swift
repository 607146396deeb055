import Foundation
import Hummingbird

/// Who may use the API (docs/serve.md, "Security model"):
/// - with a token, every request but the page's carries it (every `/api/` call, however its path
///   is spelt), as `Authorization: Bearer TOKEN` or, where a
///   browser cannot set headers (an `<audio>` source, an event stream, a download link), as
///   `?token=TOKEN`; the page itself holds no data and is served to anyone;
/// - on loopback, the `Host` header must name a loopback address, so that a web page elsewhere
///   cannot reach the server through a DNS name it rebinds to 127.0.0.1;
/// - a request carrying an `Origin` (a browser's cross-site request) must come from the server's
///   own origin; no CORS header is ever sent, so other origins cannot read any response either.
struct AccessMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?
    let loopbackOnly: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let host = request.head.authority
        if loopbackOnly, let host, !ServerConfiguration.isLoopback(authority: host) {
            throw ServerError(.forbidden, "this server answers only to loopback addresses (127.0.0.1, localhost), not to \"\(host.prefix(80))\"")
        }
        if let origin = request.headers[.origin] {
            guard let host, origin == "http://\(host)" || origin == "https://\(host)" else {
                throw ServerError(.forbidden, "cross-origin requests are refused (Origin \(origin.prefix(80))); open the page from this server")
            }
        }
        if let token, !Self.isPage(request.uri.path) {
            guard let given = Self.token(of: request) else {
                throw ServerError(.unauthorized, "this server needs its token: open the address it printed at start (…/#token=…), or send Authorization: Bearer TOKEN")
            }
            guard Self.constantTimeEqual(given, token) else {
                throw ServerError(.unauthorized, "the token is wrong; use the one the server printed at start")
            }
        }
        return try await next(request, context)
    }

    /// Whether `path` asks for the page (`/` or one of its files), the only requests served
    /// without the token. Judged on the path's non-empty components, as the router matches them,
    /// so that `//api/info` is an API call like `/api/info`.
    static func isPage(_ path: String) -> Bool {
        let components = path.split(separator: "/")
        guard let first = components.first else { return true }
        return components.count == 1 && (String(first).removingPercentEncoding ?? String(first)) != "api"
    }

    /// The token a request carries, from its header or its query.
    static func token(of request: Request) -> String? {
        // The scheme's name is case-insensitive (RFC 9110, 11.1).
        if let header = request.headers[.authorization], header.prefix(7).lowercased() == "bearer " { return String(header.dropFirst(7)) }
        return request.uri.queryParameters.get("token")
    }

    /// Compares without stopping at the first difference, so timing tells nothing about the token.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
