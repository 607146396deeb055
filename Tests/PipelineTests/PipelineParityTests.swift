import AudioDSP
import Compute
import Foundation
import Pipeline
import Schedulers
import Testing
import TestSupport

/// A case of `Tests/Fixtures/pipeline/cases.json` (scripts/reference/pipeline_fixtures.py).
struct PipelineCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let layout: String
    let prompt: String
    let negative_prompt: String?
    let scheduler: String
    let steps: Int
    let guidance: Float
    let guidance_rescale: Float
    let canvas_frames: Int
    let duration: Double
    let noise_seed: UInt64
    var testDescription: String { name }

    static func all() throws -> [PipelineCase] { try Fixtures.cases(PipelineCase.self, "pipeline/cases.json") }

    var request: GenerationRequest {
        var request = GenerationRequest(prompt: prompt)
        request.negativePrompt = negative_prompt
        request.stepCount = steps
        request.guidanceScale = guidance
        request.guidanceRescale = guidance_rescale
        request.canvasFrames = canvas_frames
        request.duration = duration
        request.scheduler = scheduler == "pndm" ? .pndm : .dpmSolverMultistep
        return request
    }
}

@Suite("Text-to-audio against the Python pipeline (scripts/reference/pipeline_fixtures.py)")
struct PipelineParityTests {
    @Test("mel and waveform within Tolerance.pipeline, from the same seed", arguments: try PipelineCase.all())
    func endToEnd(_ c: PipelineCase) throws {
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder(c.layout))
        var noise = NoiseSource(seed: c.noise_seed)
        let result = try pipeline.generate(c.request, noise: &noise)
        let mel = compare(result.logMel, try Fixtures.tensor("pipeline/\(c.name).mel.npy"))
        #expect(mel.isWithin(.pipeline), "mel: \(mel)")
        let expected = try Fixtures.tensor("pipeline/\(c.name).wave.npy").scalars
        let actual = result.audio.channels[0]
        try #require(actual.count == expected.count)
        let wave = compare(actual, expected)
        #expect(wave.isWithin(.pipelineWaveform), "waveform: \(wave)")
    }
}
