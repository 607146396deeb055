import Compute
import Foundation
import Testing
import TestSupport
import Weights

@Suite("Safetensors writing")
struct SafetensorsWritingTests {
    @Test("written tensors and metadata read back unchanged; the header is padded to 8 bytes")
    func roundTrip() throws {
        let tensors = ["b": Tensor(shape: [2, 3], scalars: [1, -2, 3.5, 0, .pi, -0]), "a": Tensor(shape: [1], scalars: [7])]
        let data = try Safetensors.encode(tensors, metadata: ["format": "test", "note": "ünïcode"])
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        let file = try Safetensors(data: data)
        #expect(file.keys == ["a", "b"] && file.metadata == ["format": "test", "note": "ünïcode"])
        for (key, tensor) in tensors { #expect(try file.tensor(key) == tensor) }
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("x.safetensors")
        try Safetensors.write(tensors, to: url)
        #expect(try Safetensors(url: url).metadata.isEmpty)
    }
}
