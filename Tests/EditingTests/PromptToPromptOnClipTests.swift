import Compute
import Editing
import Pipeline
import Testing
import TestSupport

@Suite("Prompt-to-prompt on an existing clip (SDEdit start)")
struct PromptToPromptOnClipTests {
    private static func request() -> GenerationRequest {
        var request = GenerationRequest(prompt: "a dog barking")
        request.stepCount = 6
        request.scheduler = .pndm
        return request
    }

    /// Reweighting a word by 1 between two copies of a prompt: no edit at all.
    private static let identity = PromptEdit(alignment: .none, weights: [(word: "dog", factor: 1)])

    @Test("a strength outside [0, 1] is a clear error")
    func badStrength() throws {
        let (pipeline, clip) = try fixtureClip()
        var noise = NoiseSource(seed: 0)
        #expect(throws: EditingError.invalidStrength(1.5)) {
            try pipeline.promptToPrompt(["a dog barking", "a cat barking"], edit: PromptEdit(alignment: .swap), on: clip,
                                        strength: 1.5, request: Self.request(), noise: &noise)
        }
    }

    @Test("every output has the clip's length and all prompts start from the same noised clip")
    func lengths() throws {
        let (pipeline, clip) = try fixtureClip()
        var noise = NoiseSource(seed: 3)
        let result = try pipeline.promptToPrompt(["a dog barking", "a cat barking"], edit: PromptEdit(alignment: .swap),
                                                 on: clip, strength: 0.5, request: Self.request(), noise: &noise)
        #expect(result.outputs.count == 2)
        #expect(result.outputs.allSatisfy { $0.audio.frameCount == clip.audio.frameCount })
        let starts = result.initialLatents
        #expect(starts.sliced(axis: 0, 0..<1).scalars == starts.sliced(axis: 0, 1..<2).scalars)
        #expect(result.outputs[0].logMel.scalars != result.outputs[1].logMel.scalars)
    }

    @Test("an identity edit equals style transfer of the clip under the prompt", arguments: [0.3, 0.7])
    func identityIsStyleTransfer(strength: Double) throws {
        let (pipeline, clip) = try fixtureClip()
        var noise = NoiseSource(seed: 5)
        let edited = try pipeline.promptToPrompt(["a dog barking", "a dog barking"], edit: Self.identity, on: clip,
                                                 strength: strength, request: Self.request(), noise: &noise)
        var again = NoiseSource(seed: 5)
        let transfer = try StyleTransfer(strength: strength).run(on: clip, request: Self.request(), pipeline: pipeline, noise: &again)
        let edit = try #require(edited.outputs.last)
        #expect(edit.initialLatents.scalars == transfer.initialLatents.scalars)   // the same start, bit for bit
        let mel = compare(edit.logMel, transfer.logMel)
        // Not bit-exact: the U-Net batch is 4 instead of 2, so GEMM rounding differs (observed nmse ~2e-11).
        #expect(mel.isWithin(.batchRounding), "\(mel)")
        #expect(edit.audio.frameCount == transfer.audio.frameCount)
    }
}
