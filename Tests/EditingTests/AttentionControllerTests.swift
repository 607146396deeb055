import Compute
import Editing
import Foundation
import Models
import Pipeline
import Testing
import TestSupport

@Suite("Prompt-to-prompt controllers: bookkeeping, words and errors")
struct AttentionControllerTests {
    static func pipeline() throws -> AuffusionPipeline { try AuffusionPipeline(folder: try PipelineFolders.folder("standard")) }

    static func request(steps: Int = 4) -> GenerationRequest {
        var request = GenerationRequest(prompt: "a dog barking")
        request.stepCount = steps
        request.canvasFrames = 64
        request.duration = 0.5
        request.scheduler = .pndm
        return request
    }

    @Test("the store counts U-Net evaluations (PNDM: steps + 1) and keeps the conditional cross-attention maps of every stored layer")
    func storeCounting() throws {
        let pipeline = try Self.pipeline()
        let store = AttentionStore(layersPerEvaluation: pipeline.unetConfiguration.attentionLayerCount, promptCount: 2)
        var noise = NoiseSource(seed: 1)
        _ = try pipeline.promptToPrompt(["a dog barking", "a cat barking"], request: Self.request(), noise: &noise, controller: store)
        #expect(pipeline.unetConfiguration.attentionLayerCount == 8)
        #expect(store.evaluationCount == 5)
        // Every layer of the tiny U-Net has ≤ 32² query pixels; the cross-attention half is kept.
        #expect(store.entries.count == 4 && store.entries.allSatisfy(\.site.isCrossAttention))
        for entry in store.averages() {
            let keys = 77
            #expect(entry.sum.shape == [2, 1, entry.site.queryCount, keys] && entry.heads == 2, "\(entry.site)")
            // averaged probabilities still sum to 1 over the keys, in each of the heads summed
            let firstRow = entry.sum.scalars.prefix(keys).reduce(0, +)
            #expect(abs(firstRow - Float(entry.heads)) < 1e-4, "\(entry.site)")
        }
    }

    @Test("a store built for two prompts is refused by a run of one or three, and one for another U-Net by any")
    func storeOfAnotherRun() throws {
        let pipeline = try Self.pipeline()
        let layers = pipeline.unetConfiguration.attentionLayerCount
        for (prompts, storeLayers) in [(["a dog"], layers), (["a dog", "a cat", "a cow"], layers), (["a dog", "a cat"], layers + 2)] {
            let store = AttentionStore(layersPerEvaluation: storeLayers, promptCount: 2)
            var noise = NoiseSource(seed: 1)
            #expect(throws: PipelineError.self, "\(prompts.count) prompts, \(storeLayers) layers") {
                _ = try pipeline.promptToPrompt(prompts, request: Self.request(steps: 1), noise: &noise, controller: store)
            }
            #expect(store.evaluationCount == 0 && store.entries.isEmpty)
        }
    }

    @Test("a controller that only observes changes nothing")
    func identity() throws {
        let pipeline = try Self.pipeline()
        let prompts = ["a dog barking", "a cat barking"]
        var plainNoise = NoiseSource(seed: 3), observedNoise = NoiseSource(seed: 3)
        let plain = try pipeline.promptToPrompt(prompts, request: Self.request(), noise: &plainNoise, controller: nil)
        let store = AttentionStore(layersPerEvaluation: pipeline.unetConfiguration.attentionLayerCount, promptCount: 2)
        let observed = try pipeline.promptToPrompt(prompts, request: Self.request(), noise: &observedNoise, controller: store)
        for (a, b) in zip(plain.outputs, observed.outputs) {
            let difference = compare(b.logMel, a.logMel)
            #expect(difference.isWithin(.network), "\(difference)")
        }
    }

    @Test("shared initial noise gives every prompt the same latents")
    func sharedNoise() throws {
        let pipeline = try Self.pipeline()
        var noise = NoiseSource(seed: 5)
        let result = try pipeline.promptToPrompt(["a dog", "a dog"], request: Self.request(steps: 1), noise: &noise,
                                                 initialNoise: .shared, controller: nil)
        #expect(result.initialLatents.sliced(axis: 0, 0..<1) == result.initialLatents.sliced(axis: 0, 1..<2))
        #expect(result.outputs[0].logMel == result.outputs[1].logMel)
    }

    @Test("an unknown word is an error that shows the tokens")
    func unknownWord() throws {
        let tokenizer = try Self.pipeline().text.tokenizer
        let edit = PromptEdit(alignment: .none, weights: [("cat", 2)])
        #expect {
            _ = try edit.makeController(prompts: ["a dog barking", "a dog barking"], tokenizer: tokenizer, steps: 4, layersPerEvaluation: 8)
        } throws: { error in
            guard let error = error as? PromptEditError, case .unknownWord("cat", _, let tokens) = error else { return false }
            return tokens == ["a", "dog", "barking"] && error.description.contains("'dog'")
        }
    }

    @Test("a swap accepts words of different token counts; different word counts are an error")
    func tokenCounts() throws {
        let tokenizer = try Self.pipeline().text.tokenizer
        let edit = PromptEdit(alignment: .swap)
        let controller = try edit.makeController(prompts: ["a dog barking", "a xylophonist barking"], tokenizer: tokenizer,
                                                 steps: 4, layersPerEvaluation: 8)
        #expect(controller.attentionStore.evaluationCount == 0)
        #expect(throws: PromptEditError.wordCountMismatch(source: "a dog", target: "a big dog")) {
            _ = try edit.makeController(prompts: ["a dog", "a big dog"], tokenizer: tokenizer, steps: 4, layersPerEvaluation: 8)
        }
    }

    @Test("replacement bounds: 0 ≤ start ≤ end ≤ 1, anything else (NaN too) is an error that says so")
    func replacementBounds() throws {
        #expect(try ReplaceSchedule.bounds(0.2, 0.6) == 0.2...0.6)
        #expect(try ReplaceSchedule.bounds(0, 0) == 0...0)
        for (start, end) in [(0.6, 0.2), (-0.1, 0.5), (0, 1.5), (0, .nan)] {
            #expect(throws: PromptEditError.self) { _ = try ReplaceSchedule.bounds(start, end) }
        }
        #expect(throws: PromptEditError.invalid("fractions must lie in [0, 1] with the start before the end, got 0.6-0.2")) {
            _ = try ReplaceSchedule.bounds(0.6, 0.2)
        }
    }

    @Test("a word past the text encoder's 75 tokens is named as such, not as a word missing from the prompt")
    func wordPastTheWindow() throws {
        let tokenizer = try Self.pipeline().text.tokenizer
        let prompt = (0..<80).map { "word\($0)" }.joined(separator: " ")
        let tokens = PromptTokens(prompt, tokenizer: tokenizer)
        #expect(try !tokens.requiredPositions(of: "word0").isEmpty)
        #expect { try tokens.equalizer([(word: "word79", factor: 2)]) } throws: { "\($0)".contains("comes after the 75 tokens") }
        // The 76th token is cut for EOS: a word there is past the window too, not EOS's slot.
        let filler = Array(repeating: "a", count: 75)
        #expect(throws: PromptEditError.pastTokenWindow("dog")) {
            try PromptTokens((filler + ["dog"]).joined(separator: " "), tokenizer: tokenizer).requiredPositions(of: "dog")
        }
        #expect(try PromptTokens((filler.dropLast() + ["dog"]).joined(separator: " "), tokenizer: tokenizer).requiredPositions(of: "dog") == [75])
        #expect(throws: PromptEditError.self) { try tokens.requiredPositions(of: "cat") }
        #expect { try tokens.requiredPositions(of: "cat") } throws: { "\($0)".contains("is not a word of") }
    }

    @Test("the word-swap mapper maps the swapped word and keeps the rest on the diagonal")
    func replacementMapper() throws {
        let tokenizer = try Self.pipeline().text.tokenizer
        let m = try ReplacementMapper.mapper(from: PromptTokens("a dog barking", tokenizer: tokenizer),
                                             to: PromptTokens("a cat barking", tokenizer: tokenizer))
        for i in 0..<77 { #expect(m[i, i] == 1) }
        #expect(m.scalars.reduce(0, +) == 77)
    }

    @Test("refinement alignment: inserted tokens map to -1 with alpha 0, the rest to their source positions")
    func alignment() {
        // BOS a dog EOS → BOS a big dog EOS
        let (mapper, alphas) = TokenAlignment.mapper(from: [1, 10, 20, 2], to: [1, 10, 15, 20, 2])
        #expect(Array(mapper.prefix(6)) == [0, 1, -1, 2, 3, 5])
        #expect(Array(alphas.prefix(6)) == [1, 1, 0, 1, 1, 1])
    }
}
