import AudioDSP
import Editing
import Foundation
import Pipeline
import Schedulers
import Testing
import TestSupport

/// Tests of meaning (issue #7, `docs/mini-model.md`): the embedded model, run by the Swift
/// pipeline with Griffin-Lim, does what the words say. Each test runs seeds 0–9 at 25 steps of
/// the folder's PNDM sampler with guidance 5, measures the audio (``SoundMeasures``) and states
/// how many seeds must agree. No parity test can show this: random weights have no meaning.
@Suite("Embedded model: the words change the sound", .serialized)
struct EmbeddedModelTests {
    static let seeds: [UInt64] = Array(0..<10)
    /// The centre of the 5th of 64 Slaney mel bands up to 8 kHz (232 Hz, a "low" pitch): a tone
    /// there lights one band only, so its pitch survives the 64-band spectrogram.
    static let lowToneFrequency = 3.4804 * 200 / 3

    let pipeline: AuffusionPipeline

    init() throws {
        pipeline = try AuffusionPipeline(folder: EmbeddedModel.defaultFolder(environment: [:]))
    }

    private func request(_ prompt: String) -> GenerationRequest {
        var request = GenerationRequest(prompt: prompt)
        request.stepCount = 25
        request.guidanceScale = 5
        return request
    }

    private func generate(_ prompt: String, seed: UInt64, scheduler: SchedulerKind? = nil) throws -> SoundMeasures {
        var noise = NoiseSource(seed: seed)
        var settings = request(prompt)
        settings.scheduler = scheduler
        return SoundMeasures(try pipeline.generate(settings, noise: &noise).audio.channels[0])
    }

    /// `count` seconds of a sine at `frequency`, gated on during `on` (all of it by default).
    private func tone(_ frequency: Double, seconds count: Double = 2.56,
                      on: (Double) -> Bool = { _ in true }) throws -> ClipLatents {
        let samples = (0..<Int(count * 16_000)).map { index -> Float in
            let t = Double(index) / 16_000
            return on(t) ? Float(0.5 * sin(2 * .pi * frequency * t)) : 0
        }
        var posterior: NoiseSource?
        return try ClipLatents(encoding: AudioBuffer(mono: samples, sampleRate: 16_000), pipeline: pipeline,
                               posteriorNoise: &posterior)
    }

    private static func agreeing(_ outcomes: [Bool]) -> Int { outcomes.filter { $0 }.count }

    struct ParityCase: Decodable, CustomTestStringConvertible {
        let name: String, prompt: String, steps: Int, guidance: Float, seed: UInt64, scheduler: String
        var testDescription: String { name }
    }

    @Test("the shipped weights run as in diffusers' StableDiffusionPipeline (its PNDM, and DDIM from its config): decoded image within Tolerance.embeddedModel",
          arguments: try Fixtures.json([ParityCase].self, "mini/cases.json"))
    func parity(_ c: ParityCase) throws {
        var request = GenerationRequest(prompt: c.prompt)
        request.stepCount = c.steps
        request.guidanceScale = c.guidance
        request.scheduler = SchedulerKind(rawValue: c.scheduler)
        try #require(request.scheduler != nil, "unknown sampler \(c.scheduler)")
        var noise = NoiseSource(seed: c.seed)
        let image = try pipeline.generate(request, noise: &noise).image.pixels
        let result = compare(image, try Fixtures.tensor("mini/\(c.name).image.npy"))
        #expect(result.isWithin(.embeddedModel), "\(result)")
    }

    @Test("canvas and length come from the model: 256 frames, 2.56 s")
    func canvas() throws {
        #expect(pipeline.canvasFrames == 256)
        #expect(pipeline.canvas(of: GenerationRequest(prompt: "a beep")).duration == 2.56)
    }

    @Test("pitch: 'a high pitched sine tone' has a higher dominant frequency than 'a low pitched sine tone' (≥ 8 of 10 seeds)")
    func pitch() throws {
        let pairs = try Self.seeds.map { seed in
            (try generate("a low pitched sine tone", seed: seed).dominantFrequency,
             try generate("a high pitched sine tone", seed: seed).dominantFrequency)
        }
        #expect(Self.agreeing(pairs.map { $0.1 > $0.0 }) >= 8, "low, high Hz: \(pairs)")
    }

    /// The folder's scheduler settings (v prediction, `clip_sample` false) must serve every sampler
    /// the CLI offers, not only the PNDM it names: DDIM's own default would clamp x₀ to ±1.
    @Test("every other sampler: 'a high pitched sine tone' more than an octave above 'a low pitched sine tone' (3 of 3 seeds)",
          arguments: SchedulerKind.allCases.filter { $0 != .pndm })
    func pitchWithEverySampler(_ scheduler: SchedulerKind) throws {
        let pairs = try Self.seeds.prefix(3).map { seed in
            (try generate("a low pitched sine tone", seed: seed, scheduler: scheduler).dominantFrequency,
             try generate("a high pitched sine tone", seed: seed, scheduler: scheduler).dominantFrequency)
        }
        #expect(Self.agreeing(pairs.map { SoundMeasures.semitones(from: $0.0, to: $0.1) > 12 }) == 3, "low, high Hz: \(pairs)")
    }

    @Test("timbre: 'white noise' is flatter than 'a sine tone' (10 of 10 seeds)")
    func timbre() throws {
        let pairs = try Self.seeds.map { seed in
            (try generate("white noise", seed: seed).flatness, try generate("a sine tone", seed: seed).flatness)
        }
        #expect(Self.agreeing(pairs.map { $0.0 > $0.1 }) == 10, "flatness noise, tone: \(pairs)")
    }

    @Test("order: in 'a beep followed by white noise' the first half is more tonal than the second (≥ 7 of 10 seeds)")
    func order() throws {
        let pairs = try Self.seeds.map { seed in
            let sound = try generate("a beep followed by white noise", seed: seed)
            return (sound.part(0..<1.28).flatness, sound.part(1.28..<2.56).flatness)
        }
        #expect(Self.agreeing(pairs.map { $0.0 < $0.1 }) >= 7, "flatness first, second half: \(pairs)")
    }

    private func restyledFrequencies(strength: Double) throws -> (input: Double, outputs: [Double]) {
        let clip = try tone(Self.lowToneFrequency)
        let outputs = try Self.seeds.map { seed in
            var noise = NoiseSource(seed: seed)
            return SoundMeasures(try StyleTransfer(strength: strength).run(
                on: clip, request: request("a high pitched sine tone"), pipeline: pipeline, noise: &noise).audio.channels[0])
                .dominantFrequency
        }
        return (SoundMeasures(clip.audio.channels[0]).dominantFrequency, outputs)
    }

    @Test("style transfer: a low tone restyled as 'a high pitched sine tone' at strength 0.1 stays within a semitone (10 of 10 seeds)")
    func styleTransferKeepsPitch() throws {
        let (input, weak) = try restyledFrequencies(strength: 0.1)
        #expect(Self.agreeing(weak.map { abs(SoundMeasures.semitones(from: input, to: $0)) <= 1 }) == 10,
                "input \(input) Hz, at 0.1: \(weak)")
    }

    @Test("style transfer: the same tone at strength 0.7 rises by more than a semitone (≥ 8 of 10 seeds)")
    func styleTransferRaisesPitch() throws {
        let (input, strong) = try restyledFrequencies(strength: 0.7)
        #expect(Self.agreeing(strong.map { SoundMeasures.semitones(from: input, to: $0) > 1 }) >= 8,
                "input \(input) Hz, at 0.7: \(strong)")
    }

    @Test("inpainting: a silent gap filled with 'a beep' gains ≥ 10 dB (10 of 10 seeds); every sample outside it is kept")
    func inpainting() throws {
        let gap = 1.0..<1.6
        let clip = try tone(700, on: { !gap.contains($0) && $0.truncatingRemainder(dividingBy: 0.4) < 0.15 })
        let input = SoundMeasures(clip.audio.channels[0])
        let mask = try EditMask(ranges: [gap], clipDuration: clip.duration,
                                maximumFrequency: pipeline.melParameters.maximumFrequency)
        let outside = clip.audio.channels[0].indices.filter { index in !mask.samples(sampleRate: 16_000).contains { $0.contains(index) } }
        var rises: [Double] = []
        for seed in Self.seeds {
            var noise = NoiseSource(seed: seed)
            let output = try Inpainting(mask: mask).run(on: clip, request: request("a beep"), pipeline: pipeline,
                                                        noise: &noise).audio.channels[0]
            #expect(outside.allSatisfy { output[$0] == clip.audio.channels[0][$0] }, "seed \(seed) changed a sample outside the gap")
            rises.append(SoundMeasures(output).part(gap).energyDecibels - max(input.part(gap).energyDecibels, -100))
        }
        #expect(Self.agreeing(rises.map { $0 >= 10 }) == 10, "gap energy rise in dB: \(rises)")
    }

    /// The source and the edited outputs of a prompt-to-prompt run from the shared noise of `seed`.
    private func promptToPrompt(_ prompts: [String], edit: PromptEdit, seed: UInt64) throws -> (SoundMeasures, SoundMeasures) {
        var noise = NoiseSource(seed: seed)
        let settings = request(prompts[0])
        let controller = try edit.makeController(prompts: prompts, tokenizer: pipeline.text.tokenizer, steps: settings.stepCount,
                                                 layersPerEvaluation: pipeline.unet.attentionLayerCount)
        let outputs = try pipeline.promptToPrompt(prompts, request: settings, noise: &noise, initialNoise: .shared,
                                                  controller: controller).outputs
        return (SoundMeasures(outputs[0].audio.channels[0]), SoundMeasures(outputs[1].audio.channels[0]))
    }

    @Test("reweighting: weight 2 on 'noise' in 'a beep and white noise' raises the share of noise (≥ 7 of 10 seeds)")
    func reweight() throws {
        let prompt = "a beep and white noise"
        let pairs = try Self.seeds.map { seed in
            let (plain, weighted) = try promptToPrompt([prompt, prompt], edit: PromptEdit(alignment: .none, weights: [("noise", 2)]),
                                                       seed: seed)
            return (plain.shareAwayFromDominant(), weighted.shareAwayFromDominant())
        }
        #expect(Self.agreeing(pairs.map { $0.1 > $0.0 }) >= 7, "noise share at weight 1, 2: \(pairs)")
    }

    @Test("word swap from one shared start noise: 'a low pitched beep' → 'a high pitched beep' raises the pitch and keeps the beeps' timing (≥ 7 of 10 seeds each)")
    func wordSwap() throws {
        let results = try Self.seeds.map { seed in
            let (low, high) = try promptToPrompt(["a low pitched beep", "a high pitched beep"],
                                                 edit: PromptEdit(alignment: .swap), seed: seed)
            return (low.dominantFrequency, high.dominantFrequency,
                    SoundMeasures.correlation(low.envelopeDecibels(window: 0.02), high.envelopeDecibels(window: 0.02)))
        }
        #expect(Self.agreeing(results.map { $0.1 > $0.0 }) >= 7, "low Hz, high Hz, envelope correlation: \(results)")
        // Timing: the 20 ms envelopes in dB (floored 60 dB below the loudest window) correlate by at
        // least 0.5. The previous model, which re-timed its swapped beeps, read 0.01-0.30 on it. On
        // this model the shared start noise times both prompts: with no replacement at all they
        // correlate 0.57-0.83 (docs/mini-model.md), so this holds the edit to what a user hears, not
        // to what the attention replacement adds.
        #expect(Self.agreeing(results.map { $0.2 >= 0.5 }) >= 7, "low Hz, high Hz, envelope correlation: \(results)")
    }
}
