import Foundation
import Pipeline
import Testing
import TestSupport

/// Keeping one network in memory at a time (``Residency/oneAtATime``) changes when weights are
/// loaded, never what is computed: the audio is the all-loaded pipeline's bit for bit, only one
/// network is left in memory, and a damaged file is still reported when the pipeline is made.
@Suite("Network residency")
struct ResidencyTests {
    private static func request() -> GenerationRequest {
        var request = GenerationRequest(prompt: "rain on a roof")
        request.stepCount = 3
        request.duration = 0.64
        request.canvasFrames = 64
        request.scheduler = .dpmSolverMultistep
        return request
    }

    @Test("one network at a time generates the all-loaded pipeline's audio, bit for bit, and keeps one",
          arguments: ["adapter", "standard"])
    func sameAudio(_ layout: String) throws {
        let folder = try PipelineFolders.folder(layout)
        let all = try AuffusionPipeline(folder: folder)
        let one = try AuffusionPipeline(folder: folder, residency: .oneAtATime)
        #expect(all.residentNetworkCount == 4)
        #expect(one.residentNetworkCount == 1)      // the text encoder, which a generation needs first
        var noise = NoiseSource(seed: 3)
        let expected = try all.generate(Self.request(), noise: &noise)
        noise = NoiseSource(seed: 3)
        let result = try one.generate(Self.request(), noise: &noise)
        #expect(result.latents.scalars.map(\.bitPattern) == expected.latents.scalars.map(\.bitPattern))
        #expect(result.audio.channels[0].map(\.bitPattern) == expected.audio.channels[0].map(\.bitPattern))
        #expect(one.residentNetworkCount == 1)      // the vocoder, used last
        #expect(all.residentNetworkCount == 4)
        // A second run loads the text encoder and the U-Net again, to the same numbers.
        noise = NoiseSource(seed: 3)
        #expect(try one.generate(Self.request(), noise: &noise).audio == expected.audio)
    }

    @Test("a damaged VAE or vocoder is reported when the pipeline is made, not after the denoising",
          arguments: ["vae", "vocoder"])
    func damagedFileFailsEarly(_ network: String) throws {
        let folder = try PipelineFolders.folder("adapter")
        let subfolder = folder.appendingPathComponent(network)
        let weights = try FileManager.default.contentsOfDirectory(atPath: subfolder.path).filter { !$0.hasSuffix(".json") }
        for name in weights { try Data("not weights".utf8).write(to: subfolder.appendingPathComponent(name)) }
        #expect(!weights.isEmpty)
        #expect(throws: (any Error).self) { try AuffusionPipeline(folder: folder, residency: .oneAtATime) }
    }
}
