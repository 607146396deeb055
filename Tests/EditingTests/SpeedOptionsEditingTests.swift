import Compute
import Editing
import Foundation
import Models
import Pipeline
import Testing
import TestSupport

/// The speed options reach every edit (``EditPass``, plan documents) and meet attention control
/// as docs/compute.md says: adaptive guidance composes with it, feature caching is refused.
@Suite("Speed options in edits")
struct SpeedOptionsEditingTests {
    private static func pipeline() throws -> AuffusionPipeline { try AuffusionPipeline(folder: try PipelineFolders.folder("standard")) }

    private static func request(_ speed: SpeedOptions = .exact, guidance: Float = 7.5) -> GenerationRequest {
        var request = GenerationRequest(prompt: "a cat barking")
        request.stepCount = 4
        request.guidanceScale = guidance
        request.canvasFrames = 64
        request.duration = 0.64
        request.scheduler = .pndm
        request.speed = speed
        return request
    }

    @Test("an edit controller given the conditional rows alone edits them as it edits the conditional half of the guided batch")
    func controllersTakeTheConditionalBatch() throws {
        let tokenizer = try Self.pipeline().text.tokenizer
        let prompts = ["a dog barking", "a cat barking"]
        let make = { try PromptEdit(alignment: .swap, weights: [("cat", 2)]).makeController(
            prompts: prompts, tokenizer: tokenizer, steps: 4, layersPerEvaluation: 8) }
        let (guided, conditional) = (try make(), try make())
        var random = TorchRandomSource(seed: 2)
        let site = AttentionSite(place: .down, block: 0, layer: 0, isCrossAttention: true, height: 4, width: 8)
        let batch = random.normal(shape: [4, 2, site.queryCount, 77])                       // [uncond×2, cond×2, H, Nq, Nk]
        let edited = guided.process(batch, at: site)
        let alone = conditional.process(batch.sliced(axis: 0, 2..<4), at: site)
        #expect(edited.sliced(axis: 0, 2..<4).scalars.map(\.bitPattern) == alone.scalars.map(\.bitPattern))
        #expect(edited.sliced(axis: 0, 0..<2) == batch.sliced(axis: 0, 0..<2), "the unconditional half passes through")
        #expect(alone != batch.sliced(axis: 0, 2..<4), "the edit changed something")
    }

    @Test("a word swap with guidance on no step is the same swap without guidance, bit for bit; on half the steps it runs")
    func promptToPromptUnderAdaptiveGuidance() throws {
        let pipeline = try Self.pipeline()
        func swapped(_ request: GenerationRequest) throws -> Tensor {
            let pass = EditPass.promptEdit(.init(sourcePrompt: "a dog barking", edit: PromptEdit(alignment: .swap)), request: request)
            var noise = NoiseSource(seed: 6)
            return try EditPlan([pass]).run(clip: nil, pipeline: pipeline, noise: &noise).output.latents
        }
        let unguided = try swapped(Self.request(guidance: 1))
        let adaptive = try swapped(Self.request(SpeedOptions(guidedFraction: 0)))
        #expect(adaptive.scalars.map(\.bitPattern) == unguided.scalars.map(\.bitPattern))
        #expect(try swapped(Self.request(SpeedOptions(guidedFraction: 0.5))).scalars.allSatisfy { $0.isFinite })
    }

    @Test("a plan whose attention edit asks for feature caching is refused before it runs, naming the pass and field")
    func planRefusesCachingWithAttention() throws {
        let pipeline = try Self.pipeline()
        let pass = EditPass.promptEdit(.init(sourcePrompt: "a dog barking", edit: PromptEdit(alignment: .swap)),
                                       request: Self.request(SpeedOptions(cacheInterval: 2)))
        #expect {
            try EditPlan([pass]).validate(clip: nil, pipeline: pipeline)
        } throws: { error in
            guard case EditPlanError.invalidPass(1, let field, _) = error else { return false }
            return field == "speed.cache_interval"
        }
    }

    @Test("a plan document's pass takes \"speed\"; an unknown key in it is refused with the known ones")
    func planDocuments() throws {
        let pipeline = try Self.pipeline()
        let text = #"{"passes": [{"prompt": "a", "start": {"from": "noise"}, "speed": {"guided_fraction": 0.5, "cache_interval": 3}}]}"#
        let plan = try EditPlanDocument(json: Data(text.utf8)).plan(clipDuration: nil, pipeline: pipeline)
        #expect(plan.passes[0].request.speed == SpeedOptions(guidedFraction: 0.5, cacheInterval: 3))
        let typo = #"{"passes": [{"prompt": "a", "start": {"from": "noise"}, "speed": {"cache_intervall": 3}}]}"#
        #expect {
            _ = try EditPlanDocument(json: Data(typo.utf8))
        } throws: { error in
            "\(error)".contains(#"pass 1, speed: unknown key "cache_intervall"; known keys: cache_branch, cache_interval, guided_fraction"#)
        }
    }
}
