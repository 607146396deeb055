import Compute
import Foundation
import Models
import SyntheticWeights
import Testing
import TestSupport

/// A case of `Tests/Fixtures/unet/cases.json` (scripts/reference/unet_fixtures.py).
struct UNetCase: Decodable, Sendable, CustomTestStringConvertible {
    struct Input: Decodable, Sendable { let shape: [Int]; let seed: UInt64; let scale: Float }
    struct Limit: Decodable, Sendable { let nmse: Double }
    let name: String
    let folder: String?
    let synthetic_config: UNetConfiguration?
    let inputs: [String: Input]
    let timesteps: [Float]
    let output: String
    let tolerance: Limit
    var testDescription: String { name }

    func input(_ key: String) throws -> Tensor {
        let spec = try #require(inputs[key])
        var random = TorchRandomSource(seed: spec.seed)
        return random.normal(shape: spec.shape) * spec.scale
    }

    static func all() throws -> [UNetCase] { try Fixtures.cases(UNetCase.self, "unet/cases.json") }
}

@Suite("U-Net against diffusers 0.18.2 (scripts/reference/unet_fixtures.py)")
struct UNetParityTests {
    @Test("small configurations loaded from their published folders", arguments: try UNetCase.all().filter { $0.folder != nil })
    func smallModels(_ c: UNetCase) throws {
        let unet = try UNet2DConditionModel(folder: Fixtures.url("unet/\(try #require(c.folder))"))
        let output = try unet(try c.input("sample"), timesteps: c.timesteps, context: try c.input("context"))
        let discrepancy = compare(output, try Fixtures.tensor("unet/\(c.output)"))
        #expect(discrepancy.nmse <= c.tolerance.nmse, "\(discrepancy)")
    }

    @Test("the Stable-Diffusion-1.5 U-Net with synthetic weights, one step at 4×32×128")
    func fullSize() throws {
        let c = try #require(try UNetCase.all().first { $0.synthetic_config != nil })
        let loader = ParameterLoader(.synthetic)
        let unet = try UNet2DConditionModel(configuration: try #require(c.synthetic_config), parameters: loader.root)
        let output = try unet(try c.input("sample"), timesteps: c.timesteps, context: try c.input("context"))
        let discrepancy = compare(output, try Fixtures.tensor("unet/\(c.output)"))
        #expect(discrepancy.nmse <= c.tolerance.nmse, "\(discrepancy)")
    }
}
