import Hummingbird
import Synchronization

/// The routes a server registers, kept beside the router so that a path the API knows, asked with
/// a method it does not answer, gets 405 and an `Allow` header (RFC 9110, 15.5.6) rather than
/// the 404 of a path nobody serves. A class, because the error middleware that reads it must be
/// added to the router before the routes it is to cover.
final class RouteTable: Sendable {
    private let routes = Mutex<[(method: HTTPRequest.Method, pattern: [Substring])]>([])

    /// Registers `handler` for `method` on `path` (Hummingbird's patterns: `:name` is one
    /// component, `**` the rest) and records it, with HEAD beside GET.
    func add(_ method: HTTPRequest.Method, _ path: String, to router: Router<BasicRequestContext>,
                      _ handler: @Sendable @escaping (Request, BasicRequestContext) async throws -> some ResponseGenerator) {
        router.on(RouterPath(path), method: method, use: handler)
        // The router answers HEAD wherever it answers GET (`.autoGenerateHeadEndpoints`).
        let methods: [HTTPRequest.Method] = method == .get ? [.get, .head] : [method]
        routes.withLock { routes in routes += methods.map { ($0, path.split(separator: "/")) } }
    }

    /// The methods the routes answer at `path`, in the order registered; empty for a path no
    /// route matches. Paths are compared on their non-empty components, as the router does.
    func methods(at path: String) -> [HTTPRequest.Method] {
        let components = path.split(separator: "/")
        var methods: [HTTPRequest.Method] = []
        for route in routes.withLock({ $0 }) where Self.matches(route.pattern, components) && !methods.contains(route.method) {
            methods.append(route.method)
        }
        return methods
    }

    private static func matches(_ pattern: [Substring], _ components: [Substring]) -> Bool {
        for (index, part) in pattern.enumerated() {
            if part == "**" { return components.count > index }
            guard index < components.count, part.hasPrefix(":") || part == components[index] else { return false }
        }
        return pattern.count == components.count
    }
}
