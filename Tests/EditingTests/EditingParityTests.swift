import AudioDSP
import Compute
import Editing
import Foundation
import Pipeline
import Testing
import TestSupport

/// A case of `Tests/Fixtures/editing/cases.json` (scripts/reference/editing_fixtures.py).
struct EditingCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let kind: String
    let prompt: String
    let strength: Double
    let steps: Int
    let guidance: Float
    let noise_seed: UInt64
    let mask: [[Double]]
    var testDescription: String { name }

    static func all(_ kind: String) throws -> [EditingCase] {
        try Fixtures.cases(EditingCase.self, "editing/cases.json").filter { $0.kind == kind }
    }

    var request: GenerationRequest {
        var request = GenerationRequest(prompt: prompt)
        request.stepCount = steps
        request.guidanceScale = guidance
        request.scheduler = .pndm
        return request
    }
}

/// The standard fixture pipeline and the fixture clip encoded with the posterior mean.
func fixtureClip() throws -> (AuffusionPipeline, ClipLatents) {
    let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("standard"))
    var mean: NoiseSource? = nil
    let audio = try AudioFile.read(Fixtures.url("editing/clip.wav"))
    return (pipeline, try ClipLatents(encoding: audio, pipeline: pipeline, canvasFrames: 64, posteriorNoise: &mean))
}

@Suite("Editing against diffusers 0.18.2 img2img / inpaint (scripts/reference/editing_fixtures.py)")
struct EditingParityTests {
    @Test("the clip's posterior-mean latents match")
    func clipLatents() throws {
        let (_, clip) = try fixtureClip()
        let latents = compare(clip.latents, try Fixtures.tensor("editing/clip.latents.npy"))
        #expect(latents.isWithin(.network), "\(latents)")
        #expect(clip.audio.frameCount == 8000 && !clip.wasCropped)
    }

    @Test("style transfer: mel within Tolerance.edit", arguments: try EditingCase.all("transfer"))
    func transfer(_ c: EditingCase) throws {
        let (pipeline, clip) = try fixtureClip()
        var noise = NoiseSource(seed: c.noise_seed)
        let result = try StyleTransfer(strength: c.strength).run(on: clip, request: c.request, pipeline: pipeline,
                                                                 noise: &noise)
        let mel = compare(result.logMel, try Fixtures.tensor("editing/\(c.name).mel.npy"))
        #expect(mel.isWithin(.edit), "\(mel)")
        #expect(result.audio.frameCount == clip.audio.frameCount)
    }
}

@Suite("Style transfer: strengths and edge cases")
struct StyleTransferTests {
    @Test("a strength outside [0, 1] is a clear error")
    func badStrength() throws {
        let (pipeline, clip) = try fixtureClip()
        for strength in [-0.1, 1.5, .nan] {
            var noise = NoiseSource(seed: 0)
            #expect(throws: EditingError.self) {
                try StyleTransfer(strength: strength).run(on: clip, request: GenerationRequest(prompt: "a cat"),
                                                          pipeline: pipeline, noise: &noise)
            }
        }
    }

    @Test("strength 0 with a scheduler that keeps no step returns the clip through the codec")
    func strengthZero() throws {
        let (pipeline, clip) = try fixtureClip()
        var request = GenerationRequest(prompt: "a cat")
        request.scheduler = .ddim
        request.stepCount = 10
        var noise = NoiseSource(seed: 0)
        let result = try StyleTransfer(strength: 0).run(on: clip, request: request, pipeline: pipeline, noise: &noise)
        let decoded = try pipeline.codec.images(from: clip.latents)
        #expect(result.image == decoded.first)
        #expect(result.audio.frameCount == clip.audio.frameCount)
    }
}

@Suite("Clip encoding")
struct ClipLatentsTests {
    @Test("a clip longer than the canvas is cropped to it and says so; an empty clip is an error")
    func cropping() throws {
        let (pipeline, _) = try fixtureClip()
        let audio = try AudioFile.read(Fixtures.url("editing/clip.wav"))
        var mean: NoiseSource? = nil
        let clip = try ClipLatents(encoding: audio, pipeline: pipeline, canvasFrames: 32, posteriorNoise: &mean)
        #expect(clip.wasCropped && clip.audio.frameCount == 32 * 160)
        #expect(clip.audio.channels[0] == Array(audio.channels[0].prefix(5120)))
        #expect(clip.latents.shape == [1, 4, 4, 8])
        #expect(throws: EditingError.emptyClip) {
            try ClipLatents(encoding: AudioBuffer(mono: [], sampleRate: 16000), pipeline: pipeline, canvasFrames: 32,
                            posteriorNoise: &mean)
        }
    }
}
