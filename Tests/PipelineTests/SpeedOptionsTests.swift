import Compute
import Foundation
import Models
import Pipeline
import Testing
import TestSupport

/// The approximations of the one run (``SpeedOptions``): off, they are the exact run bit for bit;
/// adaptive guidance after every step is the run without guidance; a combination that cannot work
/// is refused. What they cost in sound is measured on the embedded model (`EditingTests`).
@Suite("Speed options of the denoising run")
struct SpeedOptionsTests {
    private static func pipeline() throws -> AuffusionPipeline { try AuffusionPipeline(folder: try PipelineFolders.folder("standard")) }

    private static func request(_ speed: SpeedOptions = .exact, guidance: Float = 7.5, seconds: Double = 0.64) -> GenerationRequest {
        var request = GenerationRequest(prompt: "rain on a roof")
        request.stepCount = 6
        request.guidanceScale = guidance
        request.duration = seconds
        // One window of 64 frames, or (beyond the tiny model's 10.24 s canvas) a span of windows.
        request.canvasFrames = seconds < 10.24 ? 64 : nil
        request.scheduler = .dpmSolverMultistep
        request.speed = speed
        return request
    }

    private static func latents(_ pipeline: AuffusionPipeline, _ request: GenerationRequest) throws -> Tensor {
        var noise = NoiseSource(seed: 4)
        return try pipeline.generate(request, noise: &noise).latents
    }

    private func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

    @Test("guidance on every step and a full evaluation every step are the exact run, bit for bit")
    func exactSettings() throws {
        let pipeline = try Self.pipeline()
        let exact = try Self.latents(pipeline, Self.request())
        let spelled = SpeedOptions(guidedFraction: 1, cacheInterval: 1, cacheBranch: pipeline.unetConfiguration.featureCacheBranches.last ?? 0)
        #expect(spelled.isExact)
        #expect(bits(try Self.latents(pipeline, Self.request(spelled))) == bits(exact))
    }

    @Test("guidance on no step is the run without guidance (conditional prediction, batch P), bit for bit")
    func noGuidedStep() throws {
        let pipeline = try Self.pipeline()
        let unguided = try Self.latents(pipeline, Self.request(guidance: 1))
        let adaptive = try Self.latents(pipeline, Self.request(SpeedOptions(guidedFraction: 0)))
        #expect(bits(adaptive) == bits(unguided))
    }

    @Test("guidance on the first half of the steps lies between: unlike both the exact and the unguided run")
    func halfGuided() throws {
        let pipeline = try Self.pipeline()
        let half = try Self.latents(pipeline, Self.request(SpeedOptions(guidedFraction: 0.5)))
        #expect(half.scalars.allSatisfy { $0.isFinite })
        #expect(bits(half) != bits(try Self.latents(pipeline, Self.request())))
        #expect(bits(half) != bits(try Self.latents(pipeline, Self.request(guidance: 1))))
    }

    @Test("step i of n is guided while i < round(fraction·n); a full evaluation every interval steps from step 0")
    func schedule() {
        let speed = SpeedOptions(guidedFraction: 0.5, cacheInterval: 3)
        #expect((0..<25).filter { speed.guides(step: $0, of: 25) } == Array(0..<13))
        #expect((0..<7).filter { speed.evaluatesFully(step: $0) } == [0, 3, 6])
        #expect((0..<5).allSatisfy { SpeedOptions.exact.guides(step: $0, of: 5) && SpeedOptions.exact.evaluatesFully(step: $0) })
    }

    @Test("feature caching runs, alone and with adaptive guidance, on one window and on a span of several (one cache each), and changes the result",
          arguments: [0.64, 12.0])
    func caching(seconds: Double) throws {
        let pipeline = try Self.pipeline()
        let exact = try Self.latents(pipeline, Self.request(seconds: seconds))
        for speed in [SpeedOptions(cacheInterval: 2), SpeedOptions(guidedFraction: 0.5, cacheInterval: 3)] {
            let cached = try Self.latents(pipeline, Self.request(speed, seconds: seconds))
            #expect(cached.shape == exact.shape && cached.scalars.allSatisfy { $0.isFinite }, "\(speed)")
            #expect(bits(cached) != bits(exact), "\(speed)")
        }
        #expect(pipeline.windows(of: Self.request(seconds: seconds)).isWindowed == (seconds > 1))
    }

    @Test("feature caching with an attention controller is refused, naming both options")
    func cachingRefusesControllers() throws {
        let pipeline = try Self.pipeline()
        let request = Self.request(SpeedOptions(cacheInterval: 2))
        var noise = NoiseSource(seed: 1)
        let start = try pipeline.noiseStart(request, noise: &noise)
        let conditioning = try pipeline.conditioning([request.prompt], request: request)
        #expect {
            _ = try DenoiseRun(pipeline: pipeline, start: start, conditioning: conditioning, controller: Observer(), noise: noise,
                               speed: request.speed)
        } throws: { error in
            guard case PipelineError.incompatibleOptions(let first, let second, _) = error else { return false }
            return first.contains("cache_interval") && second.contains("attention controller")
        }
        _ = try DenoiseRun(pipeline: pipeline, start: start, conditioning: conditioning, controller: Observer(), noise: noise,
                           speed: SpeedOptions(guidedFraction: 0.5))
    }

    @Test("out-of-range values are errors naming their field")
    func validation() throws {
        let pipeline = try Self.pipeline()
        let branches = pipeline.unetConfiguration.featureCacheBranches
        let cases: [(SpeedOptions, String)] = [(SpeedOptions(guidedFraction: 1.5), "guided_fraction"),
                                               (SpeedOptions(guidedFraction: .nan), "guided_fraction"),
                                               (SpeedOptions(cacheInterval: 0), "cache_interval"),
                                               (SpeedOptions(cacheBranch: -1), "cache_branch"),
                                               (SpeedOptions(cacheInterval: 2, cacheBranch: branches.upperBound), "cache_branch")]
        for (speed, field) in cases {
            #expect {
                try pipeline.validate(Self.request(speed))
            } throws: { error in
                guard case PipelineError.invalidValue(let named, _) = error else { return false }
                return named == field
            }
        }
    }

    @Test("decoding: absent keys are exact, snake_case keys set the values")
    func decoding() throws {
        let decoder = JSONDecoder()
        #expect(try decoder.decode(SpeedOptions.self, from: Data("{}".utf8)) == .exact)
        let decoded = try decoder.decode(SpeedOptions.self, from: Data(#"{"guided_fraction": 0.4, "cache_interval": 3, "cache_branch": 1}"#.utf8))
        #expect(decoded == SpeedOptions(guidedFraction: 0.4, cacheInterval: 3, cacheBranch: 1))
        #expect(try decoder.decode(SpeedOptions.self, from: try JSONEncoder().encode(SpeedOptions.fast)) == .fast)
        #expect(try decoder.decode(SpeedOptions.self, from: Data(#"{"products": "bfloat16"}"#.utf8)) == SpeedOptions(products: .bfloat16))
        #expect(!SpeedOptions(products: .bfloat16).isExact && SpeedOptions.fast.products == .fastest)
        #expect(throws: DecodingError.self) { try decoder.decode(SpeedOptions.self, from: Data(#"{"products": "float16"}"#.utf8)) }
        // As run, bfloat16 products are float32 where the CPU has no BF16 dot products.
        #expect(SpeedOptions(products: .bfloat16).asRun.isExact == !ProductPrecision.bfloat16.runs(on: .active))
    }
}

/// A controller that looks at nothing.
private final class Observer: AttentionController {
    var runShape: AttentionRunShape? { nil }
    func wantsProbabilities(at site: AttentionSite) -> Bool { false }
    func process(_ probabilities: Tensor, at site: AttentionSite) -> Tensor { probabilities }
}
