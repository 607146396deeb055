import Compute
import Foundation
import Models
import SyntheticWeights
import Testing
import TestSupport
import Weights

@Suite("Parameter loading")
struct ParameterLoaderTests {
    /// A small checkpoint written as safetensors.
    private func store(_ tensors: [String: Tensor]) throws -> any WeightStore {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("model.safetensors")
        try Safetensors.write(tensors, to: url)
        return try WeightFile.open(url)
    }

    @Test("a complete checkpoint loads and its values arrive unchanged")
    func complete() throws {
        let weight = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        let loader = ParameterLoader(.store(try store(["proj.weight": weight, "proj.bias": Tensor(shape: [2], scalars: [7, 8])])))
        let linear = Linear(loader.root["proj"], inputs: 3, outputs: 2)
        try loader.finish()
        #expect(linear.weight == weight)
        #expect(linear(Tensor(shape: [1, 3], scalars: [1, 0, 0])).scalars == [8, 12])
    }

    @Test("every missing, mis-shaped and unexpected key is reported at once")
    func reportsEverything() throws {
        let loader = ParameterLoader(.store(try store([
            "a.weight": .zeros([4, 3]), "a.bias": .zeros([4]), "b.weight": .zeros([5, 5]), "stray.weight": .zeros([1]),
        ])))
        _ = Linear(loader.root["a"], inputs: 3, outputs: 2)
        _ = Linear(loader.root["b"], inputs: 5, outputs: 5)
        _ = Linear(loader.root["c"], inputs: 2, outputs: 2)
        #expect(throws: WeightsError.keyMismatch(
            missing: ["b.bias", "c.bias", "c.weight"], unexpected: ["stray.weight"],
            misShaped: [ShapeMismatch(key: "a.weight", expected: [2, 3], actual: [4, 3]),
                        ShapeMismatch(key: "a.bias", expected: [2], actual: [4])])) {
            try loader.finish()
        }
    }

    @Test("a 1×1 convolution weight loads into a linear layer and back")
    func squeezesUnitAxes() throws {
        let loader = ParameterLoader(.store(try store(["proj.weight": .zeros([2, 3, 1, 1])])))
        let linear = Linear(loader.root["proj"], inputs: 3, outputs: 2, bias: false)
        try loader.finish()
        #expect(linear.weight.shape == [2, 3])
    }

    @Test("synthetic parameters follow the documented formula")
    func syntheticFormula() {
        // The definition, restated: the Python side (scripts/reference) implements the same.
        let weight = SyntheticParameters.tensor(key: "conv.weight", shape: [2, 4])
        var hash: UInt32 = 2_166_136_261
        for byte in "conv.weight".utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        let phase = 2 * Double.pi * Double(hash) / 4_294_967_296
        for index in 0..<8 {
            let exact = Float((2.0 / 4).squareRoot() * sin(0.37 * Double(index) + phase))
            #expect(abs(weight.scalars[index] - exact) <= exact.ulp)
        }
        // Far into a long tensor the fast evaluation still agrees to a float32 ulp.
        let long = SyntheticParameters.tensor(key: "long.weight", shape: [1, 100_000])
        var longHash: UInt32 = 2_166_136_261
        for byte in "long.weight".utf8 { longHash = (longHash ^ UInt32(byte)) &* 16_777_619 }
        let longPhase = 2 * Double.pi * Double(longHash) / 4_294_967_296
        for index in [0, 255, 256, 99_999] {
            let exact = Float((2.0 / 100_000).squareRoot() * sin(0.37 * Double(index) + longPhase))
            #expect(abs(long.scalars[index] - exact) <= exact.ulp, "index \(index)")
        }
        let scale = SyntheticParameters.tensor(key: "norm1.weight", shape: [3])
        #expect(scale.scalars.allSatisfy { abs($0 - 1) <= 0.1 })
        let bias = SyntheticParameters.tensor(key: "norm1.bias", shape: [3])
        #expect(bias.scalars.allSatisfy { abs($0) <= 0.05 })
    }
}
