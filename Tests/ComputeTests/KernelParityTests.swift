import Compute
import Foundation
import Testing
import TestSupport

/// One case of `Tests/Fixtures/compute/cases.json` (scripts/reference/compute_fixtures.py).
/// Inputs are not stored: each is `scale · torch.randn(shape, generator=manual_seed(seed))`,
/// which `TorchRandomSource` reproduces bit for bit.
struct KernelCase: Decodable, Sendable, CustomTestStringConvertible {
    struct Input: Decodable, Sendable { let shape: [Int]; let seed: UInt64; let scale: Float }
    struct Limit: Decodable, Sendable { let nmse: Double }
    let name: String
    let op: String
    let params: [String: JSONValue]
    let inputs: [String: Input]
    let outputs: [String]
    let tolerance: Limit
    var testDescription: String { name }

    func input(_ name: String) throws -> Tensor {
        let spec = try #require(inputs[name], "case \(self.name) has no input \(name)")
        var random = TorchRandomSource(seed: spec.seed)
        return random.normal(shape: spec.shape) * spec.scale
    }

    func optionalInput(_ name: String) throws -> Tensor? { inputs[name] == nil ? nil : try input(name) }

    func int(_ key: String, default value: Int) -> Int { params[key]?.number.map(Int.init) ?? value }
    func float(_ key: String) throws -> Float { Float(try #require(params[key]?.number, "\(name): no \(key)")) }

    /// Whether the reference rounded `x` and `weight` to bfloat16: the case runs in a bfloat16
    /// ``ProductPrecision`` scope, on CPUs with AVX-512 BF16 only.
    var bfloat16Products: Bool { params["bfloat16_products"]?.bool == true }

    static func all() throws -> [KernelCase] { try Fixtures.cases(KernelCase.self, "compute/cases.json") }

    /// The cases this CPU can run: all but the bfloat16 ones where it has no BF16 dot products.
    static func runnable() throws -> [KernelCase] {
        try all().filter { !$0.bfloat16Products || ProductPrecision.bfloat16.runs(on: .active) }
    }
}

/// Enough of JSON for the fixtures' `params`.
enum JSONValue: Decodable, Sendable {
    case number(Double), bool(Bool), array([JSONValue])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else { self = .array(try container.decode([JSONValue].self)) }
    }

    var number: Double? { if case .number(let value) = self { value } else { nil } }
    var bool: Bool? { if case .bool(let value) = self { value } else { nil } }
    var integers: [Int]? { if case .array(let values) = self { values.compactMap { $0.number.map(Int.init) } } else { nil } }
}

@Suite("Kernels against PyTorch (scripts/reference/compute_fixtures.py)")
struct KernelParityTests {
    /// Runs the kernel a case names and returns its outputs by file stem.
    private func evaluate(_ c: KernelCase) throws -> [String: Tensor] {
        let stride = c.int("stride", default: 1), padding = c.int("padding", default: 0)
        let dilation = c.int("dilation", default: 1)
        switch c.op {
        case "linear":
            return ["y": try c.input("x").linear(weight: c.input("weight"), bias: c.optionalInput("bias"))]
        case "conv2d":
            return ["y": Convolution.conv2d(try c.input("x"), weight: try c.input("weight"), bias: try c.optionalInput("bias"),
                                            stride: stride, padding: padding, dilation: dilation)]
        case "conv1d":
            return ["y": Convolution.conv1d(try c.input("x"), weight: try c.input("weight"), bias: try c.optionalInput("bias"),
                                            stride: stride, padding: padding, dilation: dilation)]
        case "conv_transpose1d":
            return ["y": Convolution.convTranspose1d(try c.input("x"), weight: try c.input("weight"), bias: try c.optionalInput("bias"),
                                                     stride: stride, padding: padding, outputPadding: c.int("output_padding", default: 0))]
        case "group_norm":
            let x = try c.input("x") + Float(c.params["offset"]?.number ?? 0)
            return ["y": Normalization.groupNorm(x, groups: c.int("groups", default: 32), weight: try c.input("weight"),
                                                 bias: try c.input("bias"), epsilon: try c.float("eps"))]
        case "layer_norm":
            return ["y": Normalization.layerNorm(try c.input("x"), weight: try c.input("weight"), bias: try c.input("bias"),
                                                 epsilon: try c.float("eps"))]
        case "silu": return ["y": try c.input("x").silu()]
        case "gelu": return ["y": try c.input("x").gelu()]
        case "gelu_tanh": return ["y": try c.input("x").gelu(approximation: .tanh)]
        case "quick_gelu": return ["y": try c.input("x").quickGELU()]
        case "tanh": return ["y": try c.input("x").tanh()]
        case "softmax": return ["y": try c.input("x").softmax()]
        case "leaky_relu": return ["y": try c.input("x").leakyReLU(slope: try c.float("negative_slope"))]
        case "geglu":
            let x = try c.input("x"), halves = x.chunked(2, axis: x.rank - 1)
            let fused = x.gatedGELU()
            #expect(fused.scalars == (halves[0] * halves[1].gelu()).scalars, "the fused GEGLU differs from its parts")
            return ["y": fused]
        case "attention":
            let (q, k, v) = (try c.input("q"), try c.input("k"), try c.input("v"))
            let scale = try c.float("scale"), causal = c.params["causal"]?.bool ?? false
            let y = Attention.scaledDotProduct(query: q, key: k, value: v, scale: scale, causal: causal)
            var outputs = ["y": y]
            if c.outputs.contains("probs") {
                let probabilities = Attention.probabilities(query: q, key: k, scale: scale, causal: causal)
                outputs["probs"] = probabilities
                let fromProbabilities = Attention.weightedSum(probabilities: probabilities, value: v)
                outputs["y_from_probs"] = fromProbabilities
                if k.shape[2] <= 1024 {  // one key block: the fast path is the split form, to the bit
                    #expect(fromProbabilities.scalars == y.scalars, "\(c.name): the fast path differs from probabilities · V")
                }
            }
            return outputs
        case "upsample_nearest2d": return ["y": Resize.upsampleNearest2x(try c.input("x"))]
        case "interpolate_nearest":
            let size = try #require(c.params["size"]?.integers)
            return ["y": Resize.interpolateNearest(try c.input("x"), height: size[0], width: size[1])]
        case "add": return ["y": try c.input("a") + c.input("b")]
        case "mul": return ["y": try c.input("a") * c.input("b")]
        case "permute": return ["y": try c.input("x").permuted(try #require(c.params["axes"]?.integers))]
        case "concat": return ["y": Tensor.concatenated([try c.input("a"), try c.input("b")], axis: c.int("axis", default: 0))]
        case "slice":
            return ["y": try c.input("x").sliced(axis: c.int("axis", default: 0), c.int("start", default: 0)..<c.int("end", default: 0))]
        default:
            Issue.record("no kernel for op \(c.op)")
            return [:]
        }
    }

    @Test("every kernel matches PyTorch within the case's nmse (the bfloat16 cases in a bfloat16 scope, where the CPU has it)",
          arguments: try KernelCase.runnable())
    func kernel(_ c: KernelCase) throws {
        let outputs = try ProductPrecision.with(c.bfloat16Products ? .bfloat16 : .float32) { try evaluate(c) }
        for name in c.outputs {
            let expected = try Fixtures.tensor("compute/\(c.name)/\(name).npy")
            let actual = try #require(outputs[name], "\(c.name): no output \(name)")
            #expect(actual.shape == expected.shape, "\(c.name)/\(name)")
            guard actual.shape == expected.shape else { continue }
            let discrepancy = compare(actual, expected)
            #expect(discrepancy.nmse <= c.tolerance.nmse, "\(c.name)/\(name): \(discrepancy)")
        }
        if let fromProbabilities = outputs["y_from_probs"] {
            let discrepancy = compare(fromProbabilities, try Fixtures.tensor("compute/\(c.name)/y.npy"))
            #expect(discrepancy.nmse <= c.tolerance.nmse, "\(c.name): probabilities · V \(discrepancy)")
        }
    }

    @Test("3×3 stride-1 conv2d cases through Winograd F(2×2, 3×3) and F(4×4, 3×3) (F(2×2) on the planes too small for it) match PyTorch within the case's nmse",
          arguments: try KernelCase.all().filter { $0.op == "conv2d" && !$0.bfloat16Products && $0.int("stride", default: 1) == 1
              && $0.int("dilation", default: 1) == 1 && $0.name.contains("3x3") }, [Convolution.Strategy.winograd, .winograd4x4])
    func winograd(_ c: KernelCase, strategy: Convolution.Strategy) throws {
        let x = try c.input("x"), weight = try c.input("weight")
        let plane = (x.shape[2] + 2 * c.int("padding", default: 0) - 2) * (x.shape[3] + 2 * c.int("padding", default: 0) - 2)
        #expect(plane >= WinogradConvolution.minimumPositions, "\(c.name) would not take the Winograd path")
        let y = Convolution.conv2d(x, weight: weight, bias: try c.optionalInput("bias"), padding: c.int("padding", default: 0),
                                   strategy: strategy)
        let discrepancy = compare(y, try Fixtures.tensor("compute/\(c.name)/y.npy"))
        #expect(discrepancy.nmse <= c.tolerance.nmse, "\(c.name), \(strategy): \(discrepancy)")
    }

    @Test("the fixture list is complete")
    func fixturesPresent() throws {
        #expect(try KernelCase.all().count >= 40)
        #expect(try KernelCase.all().filter(\.bfloat16Products).count == 2)
    }
}
