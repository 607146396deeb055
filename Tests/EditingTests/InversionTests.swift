import Compute
import Editing
import Pipeline
import Schedulers
import Testing
import TestSupport
import Weights
import Foundation

/// What an inversion guarantees, on the tiny fixture model: regenerating with the source prompt
/// and the inversion's guidance walks back to the clip.
@Suite("Inversion: reconstruction and settings")
struct InversionTests {
    static let source = "a cat meowing loudly in a small room"

    static func invert(_ settings: InversionSettings) throws -> (AuffusionPipeline, Tensor, Inversion) {
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("standard"))
        let latents = try Fixtures.tensor("editing/clip.latents.npy")
        var noise = NoiseSource(seed: 5)
        return (pipeline, latents, try Inversion(inverting: latents, settings: settings, pipeline: pipeline, noise: &noise))
    }

    /// Regenerates under the source prompt and the inversion's guidance, recording every step's latents.
    static func reconstruct(_ inversion: Inversion, pipeline: AuffusionPipeline) throws -> [Tensor] {
        let start = try inversion.start(pipeline: pipeline)
        var request = GenerationRequest(prompt: inversion.settings.sourcePrompt)
        request.guidanceScale = inversion.settings.guidance
        var run = try DenoiseRun(pipeline: pipeline, start: start.start,
                                 conditioning: try pipeline.conditioning([request.prompt], request: request), noise: start.noise)
        var visited: [Tensor] = []
        while let step = try run.next() { visited.append(step.latents) }
        return visited
    }

    @Test("DDPM: regenerating with the source prompt lands on every inverted latent and ends on the clip's latents")
    func ddpmReconstruction() throws {
        let settings = InversionSettings(method: .ddpm, sourcePrompt: Self.source, stepCount: 10, startStep: 8, guidance: 3)
        let (pipeline, latents, inversion) = try Self.invert(settings)
        let visited = try Self.reconstruct(inversion, pipeline: pipeline)
        #expect(visited.count == 8)
        for (index, step) in visited.enumerated() {
            let k = 7 - index
            let landing = compare(step, inversion.trajectory.sliced(axis: 0, k..<(k + 1)))
            #expect(landing.isWithin(.exact), "x_\(k): \(landing)")
        }
        let clip = compare(try #require(visited.last), latents)
        #expect(clip.isWithin(.exact), "reconstruction against the clip's latents: \(clip)")
    }

    @Test("DDIM: the source row of a Direct Inversion edit stays on the trajectory, ending on the clip's latents exactly")
    func ddimDirectInversion() throws {
        let settings = InversionSettings(method: .ddim, sourcePrompt: "a dog barking in the rain", stepCount: 10)
        let (pipeline, latents, inversion) = try Self.invert(settings)
        let swap = PromptEdit(alignment: .swap)
        var request = GenerationRequest(prompt: "a cat barking in the rain")
        request.guidanceScale = 7.5
        let (edited, _) = try inversion.promptToPrompt(["a dog barking in the rain", "a cat barking in the rain"], edit: swap,
                                                       request: request, pipeline: pipeline)
        #expect(edited.sliced(axis: 0, 0..<1) == latents)
        #expect(compare(edited.sliced(axis: 0, 1..<2), latents).nmse > 1e-4, "the edited row changed")
    }

    @Test("an edit may start later than the inversion, not earlier; settings out of range are clear errors")
    func startSteps() throws {
        let settings = InversionSettings(method: .ddpm, sourcePrompt: Self.source, stepCount: 10, startStep: 6)
        let (pipeline, _, inversion) = try Self.invert(settings)
        let later = try inversion.start(startStep: 3, pipeline: pipeline)
        #expect(later.start.timesteps.count == 3 && later.start.latents == inversion.trajectory.sliced(axis: 0, 3..<4))
        #expect(throws: InversionError.startBeyondInversion(requested: 7, available: 6)) {
            _ = try inversion.start(startStep: 7, pipeline: pipeline)
        }
        for bad in [InversionSettings(method: .ddpm, stepCount: 0), InversionSettings(method: .ddim, stepCount: 10, startStep: 11),
                    InversionSettings(method: .ddpm, stepCount: 10, guidance: -1)] {
            var noise = NoiseSource(seed: 0)
            #expect(throws: InversionError.self) {
                _ = try Inversion(inverting: inversion.trajectory.sliced(axis: 0, 0..<1), settings: bad, pipeline: pipeline, noise: &noise)
            }
        }
    }

    @Test("defaults are the methods' own: ZETA 200 steps from 100 at source guidance 3; PnP 50 steps the whole way at 1")
    func defaults() {
        let ddpm = InversionSettings(method: .ddpm), ddim = InversionSettings(method: .ddim)
        #expect(ddpm.stepCount == 200 && ddpm.startStep == 100 && ddpm.guidance == 3 && ddpm.editGuidance == 12 && ddpm.sourcePrompt.isEmpty)
        #expect(ddim.stepCount == 50 && ddim.startStep == 50 && ddim.guidance == 1 && ddim.editGuidance == 7.5)
    }

    @Test("an inversion file reads back as written and refuses another clip, model, step count or a file that is not one")
    func file() throws {
        let settings = InversionSettings(method: .ddpm, sourcePrompt: Self.source, stepCount: 10, startStep: 4)
        let (pipeline, latents, inversion) = try Self.invert(settings)
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("clip.inversion")
        try inversion.write(to: url, pipeline: pipeline)
        let read = try Inversion(contentsOf: url, for: latents, pipeline: pipeline, stepCount: 10)
        #expect(read.settings == settings && read.trajectory == inversion.trajectory && read.noiseMaps == inversion.noiseMaps)
        #expect(try read.edit(GenerationRequest(prompt: Self.source), pipeline: pipeline)
                == inversion.edit(GenerationRequest(prompt: Self.source), pipeline: pipeline))
        let path = url.path
        #expect(throws: InversionError.mismatch(path: path, what: "another clip")) {
            _ = try Inversion(contentsOf: url, for: latents * 0.5, pipeline: pipeline)
        }
        let other = try AuffusionPipeline(folder: try PipelineFolders.folder("adapter"))
        #expect(throws: InversionError.mismatch(path: path, what: "another model")) {
            _ = try Inversion(contentsOf: url, for: latents, pipeline: other)
        }
        #expect(throws: InversionError.mismatch(path: path, what: "a schedule of 10 steps, not 20")) {
            _ = try Inversion(contentsOf: url, for: latents, pipeline: pipeline, stepCount: 20)
        }
        let foreign = url.deletingLastPathComponent().appendingPathComponent("weights.safetensors")
        try Safetensors.write(["trajectory": latents], to: foreign)
        #expect(throws: InversionError.unreadable(path: foreign.path, reason: "it is not an inversion file (no \"format\": \"auffusion-inversion\")")) {
            _ = try Inversion(contentsOf: foreign, for: latents, pipeline: pipeline)
        }
        try Data(try Data(contentsOf: url).prefix(100)).write(to: foreign)
        #expect(throws: InversionError.self) { _ = try Inversion(contentsOf: foreign, for: latents, pipeline: pipeline) }
        // Settings that are not what the writer writes: refused by name, before any value is used.
        let stored = try Safetensors(url: url)
        let text = try #require(stored.metadata["settings"])
        let tensors = try ["trajectory", "noise_maps"].reduce(into: [String: Tensor]()) { $0[$1] = try stored.tensor($1) }
        for (tampered, reason) in [(text.replacingOccurrences(of: #""startStep":4"#, with: #""startStep":9223372036854775807"#),
                                    "the start step must be between 1 and the step count 10"),
                                   ("{\"method\":\"ddpm\",\"method\":\"ddim\"}", "appears twice")] {
            var metadata = stored.metadata
            metadata["settings"] = tampered
            try Safetensors.write(tensors, metadata: metadata, to: foreign)
            #expect { _ = try Inversion(contentsOf: foreign, for: latents, pipeline: pipeline) } throws: { error in
                guard case InversionError.unreadable(_, let message) = error else { return false }
                return message.hasPrefix("its settings: ") && message.contains(reason)
            }
        }
    }
}
