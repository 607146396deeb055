import Compute
import Foundation
import Models
import Testing
import TestSupport

/// One case of `Tests/Fixtures/vae/cases.json` (scripts/reference/vae_fixtures.py). Inputs are not
/// stored: the image is `clamp(torch.randn(shape, manual_seed(seed)), −1, 1)` and the latents
/// `torch.randn(shape, manual_seed(seed))`, which `TorchRandomSource` reproduces bit for bit.
struct AutoencoderCase: Decodable, Sendable, CustomTestStringConvertible {
    struct Input: Decodable, Sendable { let shape: [Int]; let seed: UInt64 }
    struct Limit: Decodable, Sendable { let nmse: Double }
    let name: String
    let folder: String
    let variant: String?
    let synthetic: Bool
    let expected: String
    let image: Input
    let latents: Input
    let sampleSeed: UInt64
    let tolerance: Limit
    var testDescription: String { name }

    enum CodingKeys: String, CodingKey {
        case name, folder, variant, synthetic, expected, image, latents, tolerance
        case sampleSeed = "sample_seed"
    }

    var folderURL: URL { Fixtures.url("vae/\(folder)") }

    func imageInput() -> Tensor {
        var random = TorchRandomSource(seed: image.seed)
        return random.normal(shape: image.shape).map { Swift.min(Swift.max($0, -1), 1) }
    }

    func latentInput() -> Tensor {
        var random = TorchRandomSource(seed: latents.seed)
        return random.normal(shape: latents.shape)
    }

    func reference(_ output: String) throws -> Tensor { try Fixtures.tensor("vae/expected/\(expected)/\(output).npy") }

    static func all() throws -> [AutoencoderCase] { try Fixtures.cases(AutoencoderCase.self, "vae/cases.json") }
    static func named(_ name: String) throws -> AutoencoderCase {
        try #require(try all().first { $0.name == name }, "no case \(name) in vae/cases.json")
    }
}

/// The four outputs every case checks, by fixture file stem.
struct AutoencoderOutputs {
    var tensors: [String: Tensor]

    init(tensors: [String: Tensor]) { self.tensors = tensors }

    init(_ vae: AutoencoderKL, _ c: AutoencoderCase) throws {
        let posterior = try vae.encode(c.imageInput())
        var random = TorchRandomSource(seed: c.sampleSeed)
        tensors = ["mean": posterior.mean, "logvar": posterior.logVariance,
                   "sample": posterior.sample(using: &random), "decoded": try vae.decode(c.latentInput())]
    }

    /// Compares every output with the case's reference under its NMSE bound.
    func expectMatches(_ c: AutoencoderCase) throws {
        for (name, actual) in tensors.sorted(by: { $0.key < $1.key }) {
            let expected = try c.reference(name)
            try #require(actual.shape == expected.shape, "\(c.name) \(name): shape \(actual.shape) vs \(expected.shape)")
            let discrepancy = compare(actual, expected)
            print("vae \(c.name) \(name) \(actual.shape): \(discrepancy)")
            #expect(discrepancy.isWithin(c.synthetic ? .autoencoderFullSize : .network), "\(c.name) \(name): \(discrepancy)")
        }
    }
}

@Suite("AutoencoderKL against diffusers (scripts/reference/vae_fixtures.py)")
struct AutoencoderParityTests {
    @Test("tiny checkpoints in the published layout: posterior, seeded sample, decode",
          arguments: try AutoencoderCase.all().filter { !$0.synthetic && $0.name == $0.expected })
    func tiny(_ c: AutoencoderCase) throws {
        let vae = try AutoencoderKL(folder: c.folderURL, variant: c.variant)
        try AutoencoderOutputs(vae, c).expectMatches(c)
    }

    @Test("legacy attention names (query/key/value/proj_attn, some as 1×1 convolutions) load identically")
    func legacy() throws {
        let legacy = try AutoencoderCase.named("tiny_b_legacy")
        let current = try AutoencoderCase.named("tiny_b")
        let fromLegacy = try AutoencoderOutputs(try AutoencoderKL(folder: legacy.folderURL), legacy)
        let fromCurrent = try AutoencoderOutputs(try AutoencoderKL(folder: current.folderURL), current)
        #expect(fromLegacy.tensors == fromCurrent.tensors)
        try fromLegacy.expectMatches(legacy)
    }

    @Test("without a variant, full precision is preferred; fp16 files are the fallback")
    func variantChoice() throws {
        #expect(AutoencoderKL.weightFileNames(variant: nil) == [
            "diffusion_pytorch_model.safetensors", "diffusion_pytorch_model.bin",
            "diffusion_pytorch_model.fp16.safetensors", "diffusion_pytorch_model.fp16.bin",
        ])
        let folder = try Fixtures.temporaryDirectory()
        let source = Fixtures.url("vae/tiny_a")
        for name in ["config.json", "diffusion_pytorch_model.fp16.safetensors"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(name), to: folder.appendingPathComponent(name))
        }
        let c = try AutoencoderCase.named("tiny_a_fp16")
        let fallback = try AutoencoderOutputs(try AutoencoderKL(folder: folder), c)
        let explicit = try AutoencoderOutputs(try AutoencoderKL(folder: c.folderURL, variant: "fp16"), c)
        #expect(fallback.tensors == explicit.tensors)
    }
}
