import Compute
import Editing
import Models
import Pipeline
import Testing
import TestSupport

@Suite("Local blend: the edit stays where the chosen words attend, with each map's true shape")
struct LocalBlendTests {
    /// The tiny random-weight model attends almost uniformly, so its normalised maps lie mostly above
    /// the reference's 0.3; 0.8 gives a partial mask (checked below).
    static let threshold: Float = 0.8

    static func tokens(_ prompts: [String], _ pipeline: AuffusionPipeline) -> [PromptTokens] {
        prompts.map { PromptTokens($0, tokenizer: pipeline.tokenizer) }
    }

    private func blend(_ prompts: [String], _ pipeline: AuffusionPipeline) throws -> LocalBlend {
        try LocalBlend(words: ["dog", "cat"], prompts: Self.tokens(prompts, pipeline), threshold: Self.threshold,
                       resolution: AttentionResolution(height: 4, width: 16))
    }

    /// Latent cells of the edited output that differ from the source's, outside and inside the
    /// blend's final mask of the edited prompt.
    private func changedCells(_ result: PromptToPromptResult, blend: LocalBlend) throws -> (outside: Int, inside: Int, maskOutside: Int) {
        let source = result.outputs[0].latents, edited = result.outputs[1].latents
        let channels = source.shape[1], height = source.shape[2], width = source.shape[3]
        let store = try #require(result.attentionStore)
        let mask = try blend.masks(store: store, height: height, width: width)[1]
        var changedOutside = 0, changedInside = 0
        for channel in 0..<channels {
            for pixel in 0..<(height * width) {
                let index = channel * height * width + pixel
                if source.scalars[index] != edited.scalars[index] {
                    if mask[pixel] { changedInside += 1 } else { changedOutside += 1 }
                }
            }
        }
        return (changedOutside, changedInside, mask.filter { !$0 }.count)
    }

    @Test("a word swap with --blend keeps the source's latents outside the final mask, bit for bit")
    func swapOutsideMaskUnchanged() throws {
        let pipeline = try AttentionControllerTests.pipeline()
        let prompts = ["a dog barking", "a cat barking"]
        var request = AttentionControllerTests.request(steps: 4)
        request.guidanceScale = 7.5
        let controller = try PromptEdit(alignment: .swap).makeController(
            prompts: prompts, tokenizer: pipeline.tokenizer, steps: 4, layersPerEvaluation: pipeline.unetConfiguration.attentionLayerCount)
        let blend = try blend(prompts, pipeline)
        var noise = NoiseSource(seed: 3)
        let result = try pipeline.promptToPrompt(prompts, request: request, noise: &noise, initialNoise: .shared,
                                                 controller: controller, constraint: blend.constraint(reading: controller))
        let changed = try changedCells(result, blend: blend)
        #expect(changed.maskOutside > 0 && changed.maskOutside < 4 * 16, "the mask should be partial: \(changed)")
        #expect(changed.outside == 0 && changed.inside > 0, "\(changed)")
    }

    @Test("on a clip (--from), --blend keeps the source's latents outside the final mask too")
    func swapOnClipOutsideMaskUnchanged() throws {
        let (pipeline, clip) = try fixtureClip()
        let prompts = ["a dog barking", "a cat barking"]
        var request = AttentionControllerTests.request(steps: 6)
        request.guidanceScale = 7.5
        let blend = try blend(prompts, pipeline)
        var noise = NoiseSource(seed: 3)
        let result = try pipeline.promptToPrompt(prompts, edit: PromptEdit(alignment: .swap), on: clip, strength: 0.8,
                                                 request: request, blend: blend, noise: &noise)
        let changed = try changedCells(result, blend: blend)
        #expect(changed.maskOutside > 0 && changed.maskOutside < 4 * 16, "the mask should be partial: \(changed)")
        #expect(changed.outside == 0 && changed.inside > 0, "\(changed)")
    }

    @Test("a 2×4 map is read as 2×4: the peak's 3×3 neighbourhood, upsampled nearest ×4, is the mask")
    func trueShape() throws {
        let pipeline = try AttentionControllerTests.pipeline()
        let prompts = Self.tokens(["a dog barking", "a cat barking"], pipeline)
        let blend = try LocalBlend(words: ["cat"], prompts: prompts)
        let catPosition = try prompts[1].requiredPositions(of: "cat")[0]
        let store = AttentionStore(layersPerEvaluation: 1, promptCount: 2)
        var probabilities = Tensor.zeros([2, 1, 8, PromptTokens.keyCount])   // [P, heads, 2·4, 77]
        probabilities.scalars[(8 + 3) * PromptTokens.keyCount + catPosition] = 1      // prompt 1, cell (0, 3)
        let site = AttentionSite(place: .down, block: 1, layer: 0, isCrossAttention: true, height: 2, width: 4)
        _ = store.process(probabilities, at: site)
        let mask = try blend.masks(store: store, height: 8, width: 16)
        #expect(mask[0].allSatisfy { !$0 })   // "cat" is not in the source, which attends nowhere
        // Max-pooling spreads (0, 3) to rows 0–1, columns 2–3; ×4 nearest: every row, columns 8–15.
        #expect(mask[1] == (0..<128).map { $0 % 16 >= 8 })

        var latents = Tensor(shape: [2, 1, 8, 16], scalars: (0..<256).map { Float($0) })
        latents = try blend.apply(to: latents, store: store)
        #expect((0..<128).allSatisfy { latents.scalars[128 + $0] == Float($0 % 16 >= 8 ? 128 + $0 : $0) })
    }

    @Test("unknown words, a single prompt and an empty word list are errors")
    func errors() throws {
        let pipeline = try AttentionControllerTests.pipeline()
        let prompts = Self.tokens(["a dog barking", "a cat barking"], pipeline)
        #expect(throws: PromptEditError.self) { try LocalBlend(words: ["bird"], prompts: prompts) }
        #expect(throws: PromptEditError.self) { try LocalBlend(words: [], prompts: prompts) }
        #expect(throws: PromptEditError.self) { try LocalBlend(words: ["dog"], prompts: [prompts[0]]) }
    }
}
