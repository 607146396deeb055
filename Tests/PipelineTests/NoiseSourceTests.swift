import Compute
import Foundation
import Pipeline
import Testing
import TestSupport

@Suite("Noise sources")
struct NoiseSourceTests {
    @Test("--seed 42 gives torch.randn([1, 4, 32, 128], manual_seed(42)), bit for bit")
    func seedMatchesTorch() throws {
        var noise = NoiseSource(seed: 42)
        let latents = try noise.next(shape: [1, 4, 32, 128])
        let torch = try Fixtures.tensor("random/seed42_1x4x32x128.npy")
        #expect(latents.scalars.map(\.bitPattern) == torch.scalars.map(\.bitPattern))
    }

    @Test("a generation starts from the noise source's first draw")
    func generationUsesTheDraw() throws {
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("standard"))
        var request = GenerationRequest(prompt: "rain")
        request.stepCount = 1
        request.canvasFrames = 64
        request.duration = 0.64
        var noise = NoiseSource(seed: 7)
        let result = try pipeline.generate(request, noise: &noise)
        var again = NoiseSource(seed: 7)
        #expect(result.initialLatents == (try again.next(shape: [1, 4, 4, 16])))
    }

    @Test("given tensors are used in order and must have the requested size")
    func givenTensors() throws {
        let first = Tensor(shape: [1, 2], scalars: [1, 2]), second = Tensor(shape: [3], scalars: [3, 4, 5])
        var noise = try NoiseSource(tensors: [first, second])
        #expect(try noise.next(shape: [2, 1]) == first.reshaped([2, 1]))
        #expect(throws: PipelineError.noiseShape(expected: [2], actual: [3])) { try noise.next(shape: [2]) }
    }

    @Test("requests outside the model's range are refused")
    func invalidRequests() throws {
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("adapter"))
        var noise = NoiseSource(seed: 0)
        for (change, fragment) in [({ (r: inout GenerationRequest) in r.stepCount = 0 }, "steps must be at least 1"),
                                   ({ (r: inout GenerationRequest) in r.duration = 0 }, "duration must be in (0, 10.24]"),
                                   ({ (r: inout GenerationRequest) in r.duration = -1 }, "duration must be in (0, 10.24]"),
                                   ({ (r: inout GenerationRequest) in r.duration = 11; r.canvasFrames = 1024 },
                                    "duration must be in (0, 10.24]"),
                                   ({ (r: inout GenerationRequest) in r.prompt = " " }, "prompt is empty")] {
            var request = GenerationRequest(prompt: "rain")
            change(&request)
            #expect { try pipeline.generate(request, noise: &noise) } throws: { error in
                "\(error)".contains(fragment)
            }
        }
    }
}

@Suite("Noise limits")
struct NoiseLimitTests {
    @Test("given noise holding NaN or infinity is refused when the source is made")
    func nonFinite() throws {
        let finite = Tensor(shape: [2], scalars: [0.5, -1])
        #expect(throws: PipelineError.nonFiniteNoise(index: 0)) { try NoiseSource(tensors: [Tensor(shape: [2], scalars: [.nan, 0])]) }
        #expect(throws: PipelineError.nonFiniteNoise(index: 1)) { try NoiseSource(tensors: [finite, Tensor(shape: [1], scalars: [-.infinity])]) }
        #expect(throws: Never.self) { try NoiseSource(tensors: [finite]) }
    }
}
