import Foundation
import Hummingbird
import Testing
import TestSupport

@Suite("auffusion serve: the OpenAPI description")
struct OpenAPITests {
    /// docs/serve-openapi.json in this checkout.
    static let document = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("docs/serve-openapi.json")

    @Test("docs/serve-openapi.json describes every route the server has, and no other")
    func everyRoute() throws {
        let server = try TestServer()
        // The router writes a capture as {name}, as OpenAPI does; its catch-all ** is {path} there.
        let served = Set(server.server.router().routes.map { route in
            "\(route.method.rawValue) " + route.path.description.replacingOccurrences(of: "**", with: "{path}")
        })
        let object = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.document))
        let paths = try #require((object as? [String: Any])?["paths"] as? [String: [String: Any]])
        let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
        let described = Set(paths.flatMap { path, item in item.keys.filter(methods.contains).map { "\($0.uppercased()) \(path)" } })
        #expect(served.count >= 11)
        #expect(served.subtracting(described).isEmpty, "routes missing from the description: \(served.subtracting(described).sorted())")
        #expect(described.subtracting(served).isEmpty, "described but not served: \(described.subtracting(served).sorted())")
    }
}
