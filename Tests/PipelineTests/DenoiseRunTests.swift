import AudioDSP
import Compute
import Foundation
import Pipeline
import Schedulers
import Testing
import TestSupport

/// The one run as a sequence of steps: a caller that iterates it gets what `generate` gets,
/// can stop between steps, and the conditioning reports cut prompts for every batch.
@Suite("The denoising run, step by step")
struct DenoiseRunTests {
    private static func pipeline() throws -> AuffusionPipeline { try AuffusionPipeline(folder: try PipelineFolders.folder("standard")) }

    private static func request(steps: Int = 4) -> GenerationRequest {
        var request = GenerationRequest(prompt: "rain on a roof")
        request.stepCount = steps
        request.canvasFrames = 64
        request.duration = 0.64
        request.scheduler = .pndm
        return request
    }

    @Test("one pipeline serves runs from several tasks at once, each giving the bits it gives alone")
    func concurrentRuns() async throws {
        let pipeline = try Self.pipeline()
        let seeds: [UInt64] = [1, 2, 3]
        let alone = try seeds.map { seed in
            var noise = NoiseSource(seed: seed)
            return try pipeline.generate(Self.request(), noise: &noise).audio.channels[0].map(\.bitPattern)
        }
        let together = try await withThrowingTaskGroup(of: (Int, [UInt32]).self) { group in
            for (index, seed) in seeds.enumerated() {
                group.addTask {
                    var noise = NoiseSource(seed: seed)
                    return (index, try pipeline.generate(Self.request(), noise: &noise).audio.channels[0].map(\.bitPattern))
                }
            }
            var results = [[UInt32]](repeating: [], count: seeds.count)
            for try await (index, bits) in group { results[index] = bits }
            return results
        }
        #expect(together == alone)
    }

    @Test("iterating the steps gives generate's latents bit for bit, one step per timestep")
    func iterationEqualsGenerate() throws {
        let pipeline = try Self.pipeline()
        var noise = NoiseSource(seed: 11)
        let generated = try pipeline.generate(Self.request(), noise: &noise)
        var again = NoiseSource(seed: 11)
        let start = try pipeline.noiseStart(Self.request(), noise: &again)
        var run = try DenoiseRun(pipeline: pipeline, start: start,
                                 conditioning: try pipeline.conditioning(["rain on a roof"], request: Self.request()), noise: again)
        var steps: [Int] = []
        while let step = try run.next() { steps.append(step.progress.step) }
        #expect(steps == Array(1...start.timesteps.count) && start.timesteps.count == 5, "PNDM evaluates its warm-up twice")
        let after = try run.next()
        #expect(run.isFinished && after == nil)
        #expect(run.latents.scalars.map(\.bitPattern) == generated.latents.scalars.map(\.bitPattern))
    }

    @Test("a progress handler that returns false stops the run after that step")
    func cancel() throws {
        let pipeline = try Self.pipeline()
        var noise = NoiseSource(seed: 1)
        var seen = 0
        #expect(throws: PipelineError.cancelled) {
            _ = try pipeline.generate(Self.request(steps: 10), noise: &noise) { progress in
                seen = progress.step
                return progress.step < 3
            }
        }
        #expect(seen == 3)
    }

    @Test("a generation wider than the canvas reports each window decoded and vocoded by HiFi-GAN, and stops there when asked")
    func renderingProgress() throws {
        let pipeline = try Self.pipeline()
        var request = Self.request(steps: 2)
        (request.canvasFrames, request.duration) = (nil, 25)   // the folder's canvas is 10.24 s
        let windows = pipeline.windows(of: request).offsets.count
        #expect(windows >= 3)
        var noise = NoiseSource(seed: 1)
        var reports: [RenderProgress] = []
        _ = try pipeline.generate(request, noise: &noise, rendering: { reports.append($0); return true })
        #expect(reports == (1...windows).map { RenderProgress(stage: .decoding, done: $0, total: windows) }
            + (1...windows).map { RenderProgress(stage: .vocoding, done: $0, total: windows) })
        for stop in [reports[0], reports[windows + 1]] {
            var seen: [RenderProgress] = []
            noise = NoiseSource(seed: 1)
            #expect(throws: PipelineError.cancelled) {
                _ = try pipeline.generate(request, noise: &noise, rendering: { seen.append($0); return $0 != stop })
            }
            #expect(seen.last == stop, "\(seen)")
        }
    }

    @Test("the conditioning of several prompts reports the most tokens any prompt lost")
    func droppedTokensOfABatch() throws {
        let pipeline = try Self.pipeline()
        let long = Array(repeating: "rain", count: 90).joined(separator: " ")
        let conditioning = try pipeline.conditioning(["a dog", long], request: Self.request())
        #expect(conditioning.promptCount == 2 && conditioning.droppedTokenCount == 15, "\(conditioning.droppedTokenCount)")
        #expect(conditioning.usesGuidance && conditioning.unconditional?.shape == conditioning.conditional.shape)
    }

    @Test("a start whose rows do not match the prompts is refused")
    func rowsMustMatch() throws {
        let pipeline = try Self.pipeline()
        var noise = NoiseSource(seed: 1)
        let start = try pipeline.noiseStart(Self.request(), promptCount: 2, noise: &noise)
        let conditioning = try pipeline.conditioning(["rain"], request: Self.request())
        #expect(throws: PipelineError.self) { _ = try DenoiseRun(pipeline: pipeline, start: start, conditioning: conditioning, noise: noise) }
    }

    @Test("request errors name the field, not a command-line flag")
    func fieldNames() throws {
        let pipeline = try Self.pipeline()
        var request = Self.request()
        request.guidanceRescale = 2
        #expect(throws: PipelineError.invalidValue(field: "guidance_rescale", reason: "must be in [0, 1], got 2.0")) {
            try pipeline.validate(request)
        }
    }

    @Test("scheduler names: the ones users type, each once, and the raw values")
    func schedulerNames() {
        #expect(SchedulerKind.names == "pndm, ddim, dpmpp, dpmpp-karras, euler, unipc")
        #expect(SchedulerKind(name: "dpmpp") == .dpmSolverMultistep && SchedulerKind(name: "dpm++2m-karras") == .dpmSolverMultistepKarras)
        #expect(SchedulerKind(name: "plms") == nil)
    }

    @Test("the peak guard scales only audio past full scale, to -0.1 dBFS")
    func peakGuard() {
        let loud = AudioBuffer(channels: [[0.5, -2, 1], [0.25, 0, 0]], sampleRate: 16000)
        let (scaled, gain) = PeakGuard().apply(to: loud)
        #expect(abs(gain - 20 * log10(0.9886 / 2)) < 1e-4)
        #expect(scaled.channels[0][1] == -0.9886 && scaled.channels[1][0] == 0.25 * 0.9886 / 2)
        let quiet = AudioBuffer(channels: [[0.5, -1, 1]], sampleRate: 16000)
        #expect(PeakGuard().apply(to: quiet).gainDecibels == 0 && PeakGuard().apply(to: quiet).audio == quiet)
    }
}
