import AudioDSP
import Compute
import Editing
import Foundation
import Pipeline
import Testing
import TestSupport
import Toolkit

/// Values an app can pass to the library's public API that once stopped the process (a trap in
/// a function that throws). Each must now be a typed error, or work; found by an audit that
/// used the library as an app would.
@Suite("The library's public API refuses bad values with errors, not traps")
struct PublicInputTests {
    let folder: URL
    let pipeline: AuffusionPipeline

    init() throws {
        folder = try PipelineFolders.folder("standard")
        pipeline = try AuffusionPipeline(folder: folder)
    }

    private func tone(seconds: Double, rate: Double = 16_000) -> AudioBuffer {
        AudioBuffer(mono: (0..<Int(seconds * rate)).map { Float(0.3 * sin(Double($0) * 0.05)) }, sampleRate: rate)
    }

    private func field(_ error: any Error) -> String? {
        if case PipelineError.invalidValue(let field, _) = error { return field }
        return nil
    }

    @Test("a request's duration that is not a positive number, or a canvas past the longest generation")
    func requests() throws {
        for duration in [Double.nan, -1, .infinity] {
            var request = GenerationRequest(prompt: "a beep")
            request.duration = duration
            do { try pipeline.validate(request); Issue.record("duration \(duration) was accepted") } catch {
                #expect(field(error) == "duration", "\(error)")
            }
        }
        var narrow = GenerationRequest(prompt: "a beep")
        narrow.canvasFrames = pipeline.canvasGrid / 2
        do { try pipeline.validate(narrow); Issue.record("a canvas off the U-Net's grid was accepted") } catch { #expect(field(error) == "canvas") }
        var huge = GenerationRequest(prompt: "a beep")
        huge.canvasFrames = 1 << 40
        do { try pipeline.validate(huge); Issue.record("a canvas of 2^40 frames was accepted") } catch { #expect(field(error) == "canvas") }
    }

    @Test("render refuses latents of another rank and durations that are not positive")
    func render() throws {
        let latents = Tensor(shape: [1, 4, 8, 8], scalars: [Float](repeating: 0, count: 256))
        for duration in [-1, Double.nan] {
            #expect(throws: PipelineError.self) { try pipeline.render(latents, duration: duration) }
        }
        #expect(throws: PipelineError.self) { try pipeline.render(Tensor(shape: [4, 32], scalars: [Float](repeating: 0, count: 128)), duration: 1) }
    }

    @Test("a model whose VAE sample_size gives a canvas off the latent grid or past 600 s, or rows other than its vocoder's bands, is refused at load")
    func canvasOfTheModel() throws {
        let config = folder.appendingPathComponent("vae/config.json")
        let original = try Data(contentsOf: config)
        defer { try? original.write(to: config) }
        // The fixture's vocoder has 16 mel bands: a VAE made for 64-row spectrograms is another model's.
        for size in [[64, 4], [64, 65536], [64, 64]] {
            var object = try #require(try JSONSerialization.jsonObject(with: original) as? [String: Any])
            object["sample_size"] = size
            try JSONSerialization.data(withJSONObject: object).write(to: config)
            #expect(throws: (any Error).self, "sample_size \(size)") { try AuffusionPipeline(folder: folder) }
        }
    }

    @Test("edit plans: no pass on a long clip, a context that is not a length, a NaN word weight, replacement bounds past 1")
    func plans() throws {
        let long = try EditClip(tone(seconds: Double(pipeline.canvasFrames) / pipeline.melParameters.framesPerSecond * 2.5), pipeline: pipeline)
        var noise = NoiseSource(seed: 1)
        #expect(throws: EditPlanError.empty) { try EditPlan([]).run(on: long, pipeline: pipeline, noise: &noise) }
        // A mask made for a longer clip, on a short one and on a long one.
        let elsewhere = try EditMask(ranges: [long.duration + 1..<long.duration + 2], clipDuration: long.duration + 3)
        let masked = EditPlan([EditPass.inpainting(mask: elsewhere, request: GenerationRequest(prompt: "a bell"))])
        for clip in [long, try EditClip(tone(seconds: 1), pipeline: pipeline)] {
            #expect(throws: EditingError.self) { try masked.run(on: clip, pipeline: pipeline, noise: &noise) }
        }
        var plan = EditPlan([EditPass.styleTransfer(strength: 0.5, request: GenerationRequest(prompt: "a bell"))])
        for context in [Double.nan, -1, 1e300] {
            plan.contextSeconds = context
            #expect(throws: EditingError.self) { try plan.validateWithoutClip(pipeline: pipeline) }
        }
        plan.contextSeconds = 0.5
        plan.crossfadeSeconds = 1e15
        #expect(throws: EditingError.self) { try plan.validateWithoutClip(pipeline: pipeline) }
        // A mask for a clip of no length, an infinite one or one too long to count in frames.
        for duration in [Double.nan, .infinity, 1e300, 0] {
            #expect(throws: EditingError.self, "clip of \(duration) s") { try EditMask(ranges: [1..<2], clipDuration: duration) }
        }
        let weighted = PromptEdit(alignment: .none, weights: [(word: "bell", factor: .nan)])
        #expect(throws: PromptEditError.self) {
            try weighted.makeController(prompts: ["a bell", "a bell"], tokenizer: try pipeline.text.tokenizer, steps: 3, layersPerEvaluation: 2)
        }
        #expect(throws: PromptEditError.self) {
            try PromptEdit(alignment: .swap).makeController(prompts: ["a bell", "a drum"], tokenizer: try pipeline.text.tokenizer,
                                                           steps: -5, layersPerEvaluation: 2)
        }
        do {
            try ReplaceSchedule(cross: 0...1.5).validate()
            Issue.record("bounds past 1 were accepted")
        } catch let error as ReplaceScheduleError {
            #expect(error == .invalidBounds(.cross, reason: "replacement fractions must lie in [0, 1], got 0.0...1.5"))
            #expect(!"\(error)".contains("--"), "a library error speaks of fields, not of the command line's flags")
        }
    }

    @Test("clips and audio files: a canvas off the grid, impossible rates, misfit segments, a negative range")
    func audio() throws {
        var none: NoiseSource?
        for frames in [-8, 0, 3] {
            #expect(throws: PipelineError.self) { try ClipLatents(encoding: tone(seconds: 0.5), pipeline: pipeline, canvasFrames: frames, posteriorNoise: &none) }
        }
        let work = try Fixtures.temporaryDirectory()
        for rate in [5e9, Double.infinity] {
            #expect(throws: AudioFileError.self) {
                try AudioFile.write(AudioBuffer(mono: [0, 0.1], sampleRate: rate), to: work.appendingPathComponent("rate.wav"))
            }
        }
        let original = work.appendingPathComponent("original.wav")
        try AudioFile.write(tone(seconds: 0.1), to: original)
        let misfits = [[AudioSegment(start: 10, audio: tone(seconds: 0.01, rate: 44_100))],
                       [AudioSegment(start: 10, audio: tone(seconds: 0.01)), AudioSegment(start: 20, audio: tone(seconds: 0.01))],
                       [AudioSegment(start: 5000, audio: tone(seconds: 0.01))]]
        for segments in misfits {
            #expect(throws: AudioFileError.self) {
                try AudioFile.splice(segments, into: original, to: work.appendingPathComponent("spliced.wav"), encoding: .pcm16)
            }
        }
        #expect(throws: AudioFileError.self) { try AudioReader(original).read(frames: -5..<3) }
        for bad in [Float.nan, .infinity] {
            let output = work.appendingPathComponent("bad.wav")
            #expect(throws: AudioFileError.self) { try AudioFile.write(AudioBuffer(mono: [0, bad, 0.1], sampleRate: 16_000), to: output) }
            #expect(throws: AudioFileError.self) {
                try AudioFile.splice([AudioSegment(start: 10, audio: AudioBuffer(mono: [bad], sampleRate: 16_000))], into: original, to: output, encoding: .pcm16)
            }
            #expect(!FileManager.default.fileExists(atPath: output.path))
        }
        for rate in [Double.nan, -16_000, 0] {
            #expect(throws: Resampler.Failure.self, "\(rate) Hz") { try Resampler.resample(tone(seconds: 0.01), to: rate) }
        }
        var analyzer = try MelAnalyzer(pipeline.melParameters)
        analyzer.chunkFrames = 0
        #expect(try analyzer.logMel(of: tone(seconds: 0.5).channels[0]).shape[0] == pipeline.melParameters.melBinCount)
    }

    @Test("the vocoder: a log-mel of another rank or band count, or no Griffin-Lim iteration")
    func vocoder() throws {
        let vocoder = try pipeline.vocoder
        for shape in [[pipeline.melParameters.melBinCount], [pipeline.melParameters.melBinCount + 1, 20]] {
            let logMel = Tensor(shape: shape, scalars: [Float](repeating: -5, count: shape.reduce(1, *)))
            #expect(throws: AnalysisError.self, "\(shape)") { try vocoder.waveform(logMel: logMel) }
        }
        let logMel = Tensor(shape: [256, 20], scalars: [Float](repeating: -5, count: 256 * 20))
        #expect(throws: PipelineError.self) { try Vocoder.resynthesis(of: logMel, model: nil, iterations: -1) }
    }

    @Test("a shard of no tasks contains none")
    func shard() {
        #expect(!Shard(index: 0, count: 0).contains(3))
    }
}
