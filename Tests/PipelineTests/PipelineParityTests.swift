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
    @Test("mel within nmse 1e-6 and waveform correlation ≥ 0.9999, from the same seed", arguments: try PipelineCase.all())
    func endToEnd(_ c: PipelineCase) throws {
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder(c.layout))
        var noise = NoiseSource(seed: c.noise_seed)
        let result = try pipeline.generate(c.request, noise: &noise)
        let mel = compare(result.logMel, try Fixtures.tensor("pipeline/\(c.name).mel.npy"))
        #expect(mel.nmse <= 1e-6, "\(mel)")
        let expected = try Fixtures.tensor("pipeline/\(c.name).wave.npy").scalars
        let actual = result.audio.channels[0]
        #expect(actual.count == expected.count)
        #expect(correlation(actual, expected) >= 0.9999)
    }

    private func correlation(_ a: [Float], _ b: [Float]) -> Double {
        let n = Double(min(a.count, b.count))
        let meanA = a.reduce(0.0) { $0 + Double($1) } / n, meanB = b.reduce(0.0) { $0 + Double($1) } / n
        var covariance = 0.0, varianceA = 0.0, varianceB = 0.0
        for (x, y) in zip(a, b) {
            covariance += (Double(x) - meanA) * (Double(y) - meanB)
            varianceA += (Double(x) - meanA) * (Double(x) - meanA)
            varianceB += (Double(y) - meanB) * (Double(y) - meanB)
        }
        return covariance / (varianceA * varianceB).squareRoot()
    }
}
