import Compute
import Foundation
import Pipeline
import Testing
import TestSupport

@Suite("Text conditioning by layout")
struct TextConditionerTests {
    @Test("the embedding shape is known without running a model and equals an encoding's", arguments: ["adapter", "standard"])
    func embeddingShape(_ layout: String) throws {
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder(layout))
        let encoded = try pipeline.text.encode("a dog barking")
        #expect(try pipeline.text.embeddingShape == encoded.embeddings.shape)
        // The adapter layout's unconditional embedding is zeros (torch.zeros_like in AuffusionPipeline).
        if layout == "adapter" {
            let unconditional = try pipeline.text.unconditional(negativePrompt: nil)
            #expect(unconditional.shape == encoded.embeddings.shape && unconditional.scalars.allSatisfy { $0 == 0 })
        }
    }

    @Test("unconditional generation runs on zero conditioning without guidance", arguments: ["adapter", "standard"])
    func unconditional(_ layout: String) throws {
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder(layout))
        var request = GenerationRequest(prompt: "")
        request.unconditional = true
        request.stepCount = 2
        request.canvasFrames = 64
        request.duration = 0.64
        var noise = NoiseSource(seed: 3)
        let result = try pipeline.generate(request, noise: &noise)
        #expect(result.audio.frameCount == 64 * 160)
        #expect(result.logMel.scalars.allSatisfy { $0.isFinite })
    }
}
