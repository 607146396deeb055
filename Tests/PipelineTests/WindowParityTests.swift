import Compute
import Pipeline
import Schedulers
import Testing
import TestSupport

/// A case of `Tests/Fixtures/windows/cases.json` (scripts/reference/windows_fixtures.py).
struct WindowCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let join: String
    let scheduler: String
    let prompt: String
    let steps: Int
    let guidance: Float
    let span_frames: Int
    let noise_seed: UInt64
    var testDescription: String { name }

    static func all() throws -> [WindowCase] { try Fixtures.cases(WindowCase.self, "windows/cases.json") }
}

@Suite("Generation wider than the canvas, in windows, against restatements on diffusers 0.18.2 (scripts/reference/windows_fixtures.py)")
struct WindowParityTests {
    @Test("a span of 2.5 canvases in three windows: the final latents within Tolerance.pipeline, from the same seed; MultiDiffusion's averaging as its own loop does it, and the crossfade with DDIM and PNDM",
          arguments: try WindowCase.all())
    func jointStep(_ c: WindowCase) throws {
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("standard"))
        var request = GenerationRequest(prompt: c.prompt)
        request.stepCount = c.steps
        request.guidanceScale = c.guidance
        request.scheduler = try #require(SchedulerKind(name: c.scheduler))
        request.windowJoin = try #require(LatentWindows.Join(rawValue: c.join))
        request.duration = Double(c.span_frames) / pipeline.melParameters.framesPerSecond
        #expect(pipeline.windows(of: request).offsets == [0, 192, 384])
        var noise = NoiseSource(seed: c.noise_seed)
        let result = try pipeline.generate(request, noise: &noise)
        let latents = compare(result.latents, try Fixtures.tensor("windows/\(c.name).latents.npy"))
        #expect(latents.isWithin(.pipeline), "latents: \(latents)")
    }
}
