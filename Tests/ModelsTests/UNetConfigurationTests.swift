import Foundation
import Models
import Testing

@Suite("UNet2DConditionModel configuration")
struct UNetConfigurationTests {
    private func sampleSize(_ json: String) throws -> [Int]? {
        try JSONDecoder().decode(UNetConfiguration.self, from: Data(json.utf8)).sampleSize
    }

    @Test("sample_size may be a number (Stable Diffusion's square size), a [height, width] list, or absent")
    func sampleSizes() throws {
        #expect(try sampleSize(#"{"sample_size": 64}"#) == [64])
        #expect(try sampleSize(#"{"sample_size": [8, 32]}"#) == [8, 32])
        #expect(try sampleSize("{}") == nil)
    }
}
