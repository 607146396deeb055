import AudioDSP
import Compute
import Editing
import Foundation
import Pipeline
import Schedulers
import Testing
import TestSupport

/// Tests of meaning (issue #7, `docs/mini-model.md`): the embedded model, run by the Swift
/// pipeline with Griffin-Lim, does what the words say. Each test runs ``seeds`` at 25 steps of the
/// folder's PNDM sampler with guidance 5, measures the audio (``SoundMeasures``) and states how
/// many seeds must agree. No parity test can show this: random weights have no meaning.
///
/// The evidence is held out. The recipe, the corpus and the measures were changed until seeds 0–9
/// passed (training's evaluation and `edit_checks.py` use them), so these tests use seeds that no
/// part of the model's making drew from: training seeds its torch generators with
/// `stage · 1,000,003 + step` (all ≥ 1,000,003), evaluation with 0–9. The clips an edit starts from
/// are made here: a tone between two mel-band centres (the corpus's tones were never placed off a
/// centre on purpose, and the tuned test used a centre), and a gap to fill that holds bursts of it
/// rather than silence (the bursts' 110 ms every 330 ms lie within the corpus's ranges).
///
/// Every edit test also runs its edit switched off (strength 0, the mask elsewhere, weight 1, no
/// controller) in the test itself and requires the mean difference between the two to exceed the
/// seed-to-seed spread (the larger standard deviation of the two) by ``margin``: a test that passes
/// with its edit off does not test the edit.
@Suite("Embedded model: the words change the sound")
struct EmbeddedModelTests {
    /// Held-out seeds (above).
    static let seeds: [UInt64] = Array(100..<110)
    /// How many seed-to-seed spreads an edit's mean effect must exceed.
    static let margin = 2.0
    /// Between the centres of the 5th and 6th of 64 Slaney mel bands up to 8 kHz (255 Hz, a "low"
    /// pitch): the tone lights two bands half each, as no tone of the corpus was chosen to.
    static let lowToneFrequency = 5.5 * MelFilterbank.hertzToMel(8000) / 65 * 200 / 3

    let pipeline: AuffusionPipeline

    init() throws {
        pipeline = try EmbeddedModelRuns.pipeline()
    }

    private func request(_ prompt: String) -> GenerationRequest { EmbeddedModelRuns.request(prompt) }

    private func generate(_ prompt: String, seed: UInt64, scheduler: SchedulerKind? = nil, steps: Int = 25) throws -> SoundMeasures {
        SoundMeasures(try generation(prompt, seed: seed, scheduler: scheduler, steps: steps).audio.channels[0])
    }

    /// The exact run of `prompt` from `seed`, shared with the fast presets' tests (``EmbeddedModelRuns/exactRun(_:seed:pipeline:)``).
    private func exact(_ prompt: String, seed: UInt64) throws -> SoundMeasures {
        SoundMeasures(try EmbeddedModelRuns.exactRun(prompt, seed: seed, pipeline: pipeline).audio.channels[0])
    }

    private func generation(_ prompt: String, seed: UInt64, scheduler: SchedulerKind?, steps: Int) throws -> GenerationResult {
        var noise = NoiseSource(seed: seed)
        var settings = request(prompt)
        settings.scheduler = scheduler
        settings.stepCount = steps
        return try pipeline.generate(settings, noise: &noise)
    }


    private static func agreeing(_ outcomes: [Bool]) -> Int { outcomes.filter { $0 }.count }

    /// Prints a test's figures on every run, pass or fail: docs/mini-model.md quotes them.
    private static func report(_ test: String, _ figures: String) { print("embedded model, held-out seeds, \(test): \(figures)") }

    struct ParityCase: Decodable, CustomTestStringConvertible {
        let name: String, prompt: String, steps: Int, guidance: Float, seed: UInt64, scheduler: String
        var testDescription: String { name }
    }

    @Test("the shipped weights run as in diffusers' StableDiffusionPipeline (its PNDM, and DDIM from its config): decoded image within Tolerance.embeddedModel",
          arguments: try Fixtures.cases(ParityCase.self, "mini/cases.json"))
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
            (try exact("a low pitched sine tone", seed: seed).dominantFrequency,
             try exact("a high pitched sine tone", seed: seed).dominantFrequency)
        }
        Self.report("pitch", "low, high Hz \(pairs)")
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
        Self.report("pitch with \(scheduler)", "low, high Hz \(pairs)")
        #expect(Self.agreeing(pairs.map { SoundMeasures.semitones(from: $0.0, to: $0.1) > 12 }) == 3, "low, high Hz: \(pairs)")
    }

    /// Held-out seeds of the fewer-steps preset, drawn by nothing else: training's generators start
    /// at 1,000,003, its evaluation uses 0–9, the other tests 100–109.
    static let fewerStepsSeeds: [UInt64] = Array(10..<20)

    /// The fewer-steps preset (docs/generate.md): UniPC at 15 steps keeps what the words say.
    @Test("UniPC at 15 steps: 'a high pitched sine tone' more than an octave above 'a low pitched sine tone' (≥ 8 of 10 seeds 10–19), 'white noise' flatter than 'a sine tone' (10 of 10)")
    func uniPCFewerSteps() throws {
        let pitch = try Self.fewerStepsSeeds.map { seed in
            (try generate("a low pitched sine tone", seed: seed, scheduler: .unipc, steps: 15).dominantFrequency,
             try generate("a high pitched sine tone", seed: seed, scheduler: .unipc, steps: 15).dominantFrequency)
        }
        let timbre = try Self.fewerStepsSeeds.map { seed in
            (try generate("white noise", seed: seed, scheduler: .unipc, steps: 15).flatness,
             try generate("a sine tone", seed: seed, scheduler: .unipc, steps: 15).flatness)
        }
        Self.report("UniPC 15 steps, seeds 10-19", "pitch low, high Hz \(pitch); flatness noise, tone \(timbre)")
        #expect(Self.agreeing(pitch.map { SoundMeasures.semitones(from: $0.0, to: $0.1) > 12 }) >= 8, "low, high Hz: \(pitch)")
        #expect(Self.agreeing(timbre.map { $0.0 > $0.1 }) == 10, "flatness noise, tone: \(timbre)")
    }

    /// The exact run is the folder's own sampler (PNDM) at the command line's default 100 steps;
    /// UniPC at 15 steps (15 evaluations) must land no farther from it, in mean
    /// ``MelDistance/meanAbsoluteDecibels(_:_:)`` over the seeds, than PNDM at the 25 steps (26
    /// evaluations) every other test of meaning runs. On these seeds that is 0.80 dB against
    /// 0.91 dB; a first-order sampler at 15 steps (DDIM) lands 1.69 dB away and fails, and two
    /// seeds' exact runs lie 17 dB apart.
    @Test("UniPC at 15 steps lands no farther from the exact run (PNDM, 100 steps) than PNDM at 25 steps (mean mel distance, seeds 10–19, 'a beep followed by white noise')")
    func uniPCNearTheExactRun() throws {
        let prompt = "a beep followed by white noise"
        var fast: [Double] = [], default25: [Double] = [], acrossSeeds: [Double] = []
        var previous: Tensor?
        for seed in Self.fewerStepsSeeds {
            let exact = try generation(prompt, seed: seed, scheduler: nil, steps: 100).logMel
            fast.append(MelDistance.meanAbsoluteDecibels(try generation(prompt, seed: seed, scheduler: .unipc, steps: 15).logMel, exact))
            default25.append(MelDistance.meanAbsoluteDecibels(try generation(prompt, seed: seed, scheduler: nil, steps: 25).logMel, exact))
            if let previous { acrossSeeds.append(MelDistance.meanAbsoluteDecibels(exact, previous)) }
            previous = exact
        }
        let mean = { (values: [Double]) in values.reduce(0, +) / Double(values.count) }
        Self.report("mel distance to PNDM 100 steps, seeds 10-19",
                    "UniPC 15 dB \(fast); PNDM 25 dB \(default25); consecutive seeds' exact runs dB \(acrossSeeds)")
        #expect(mean(fast) <= mean(default25), "UniPC 15: \(mean(fast)) dB from the exact run, PNDM 25: \(mean(default25)) dB")
    }

    @Test("timbre: 'white noise' is flatter than 'a sine tone' (10 of 10 seeds)")
    func timbre() throws {
        let pairs = try Self.seeds.map { seed in
            (try exact("white noise", seed: seed).flatness, try exact("a sine tone", seed: seed).flatness)
        }
        Self.report("timbre", "flatness noise, tone \(pairs)")
        #expect(Self.agreeing(pairs.map { $0.0 > $0.1 }) == 10, "flatness noise, tone: \(pairs)")
    }

    @Test("order: in 'a beep followed by white noise' the first half is more tonal than the second (≥ 7 of 10 seeds)")
    func order() throws {
        let pairs = try Self.seeds.map { seed in
            let sound = try generate("a beep followed by white noise", seed: seed)
            return (sound.part(0..<1.28).flatness, sound.part(1.28..<2.56).flatness)
        }
        Self.report("order", "flatness first, second half \(pairs)")
        #expect(Self.agreeing(pairs.map { $0.0 < $0.1 }) >= 7, "flatness first, second half: \(pairs)")
    }

    /// The dominant frequency of each seed's restyled output at `strength`.
    private func restyled(_ clip: ClipLatents, strength: Double) throws -> [Double] {
        try Self.seeds.map { seed in
            var noise = NoiseSource(seed: seed)
            let output = try StyleTransfer(strength: strength).run(
                on: clip, request: request("a high pitched sine tone"), pipeline: pipeline, noise: &noise).audio.channels[0]
            return SoundMeasures(output).dominantFrequency
        }
    }

    /// The spacing of the model's 64 mel bands below 1 kHz, in Hz: the finest pitch it can place.
    static let bandSpacing = MelFilterbank.hertzToMel(8000) / 65 * 200 / 3

    /// A tone between two band centres comes back on one of them (1.5 semitones away at 255 Hz),
    /// so "kept" means within one band spacing of the input, as the codec alone (strength 0) keeps it.
    @Test("style transfer of a 255 Hz tone to 'a high pitched sine tone': within one mel band at strength 0.1 (10 of 10 seeds), up by more than a semitone at 0.7 (≥ 8 of 10), and at 0.7 above strength 0 by more than 2 seed spreads")
    func styleTransfer() throws {
        let clip = try EmbeddedModelRuns.tone(Self.lowToneFrequency, pipeline: pipeline)
        let input = SoundMeasures(clip.audio.channels[0]).dominantFrequency
        let (weak, strong, off) = (try restyled(clip, strength: 0.1), try restyled(clip, strength: 0.7),
                                   try restyled(clip, strength: 0))
        Self.report("style transfer", "input \(input) Hz; at 0: \(off); at 0.1: \(weak); at 0.7: \(strong)")
        #expect(Self.agreeing(weak.map { abs($0 - input) <= Self.bandSpacing }) == 10, "input \(input) Hz, at 0.1: \(weak), at 0: \(off)")
        let semitones = { (outputs: [Double]) in outputs.map { SoundMeasures.semitones(from: input, to: $0) } }
        #expect(Self.agreeing(semitones(strong).map { $0 > 1 }) >= 8, "input \(input) Hz, at 0.7: \(strong)")
        let effect = EditEffect(on: semitones(strong), off: semitones(off))
        #expect(effect.exceedsSpread(by: Self.margin), "semitones at 0.7 against strength 0: \(effect)")
    }

    @Test("inpainting: a gap of low bursts filled with 'white noise' becomes noise (≥ 8 of 10 seeds), against the same fill masked elsewhere by more than 2 seed spreads; every sample outside the requested seconds is kept")
    func inpainting() throws {
        // Bursts of 110 ms every 330 ms run through the gap: it holds sound, not silence, so the
        // fill must turn tone into noise rather than add energy to nothing.
        let gap = 0.9..<1.5, elsewhere = 1.9..<2.5
        let clip = try EmbeddedModelRuns.tone(Self.lowToneFrequency, pipeline: pipeline, on: { $0.truncatingRemainder(dividingBy: 0.33) < 0.11 })
        let input = clip.audio.channels[0]
        let outside = input.indices.filter { !gap.contains(Double($0) / 16_000) }
        func filled(_ range: Range<Double>, seed: UInt64) throws -> [Float] {
            let mask = try EditMask(ranges: [range], clipDuration: clip.duration,
                                    maximumFrequency: pipeline.melParameters.maximumFrequency)
            var noise = NoiseSource(seed: seed)
            return try Inpainting(mask: mask).run(on: clip, request: request("white noise"), pipeline: pipeline,
                                                  noise: &noise).audio.channels[0]
        }
        var on: [Double] = [], off: [Double] = []
        for seed in Self.seeds {
            let output = try filled(gap, seed: seed)
            #expect(outside.allSatisfy { output[$0] == input[$0] }, "seed \(seed) changed a sample outside \(gap) s")
            on.append(SoundMeasures(output).part(gap).flatness)
            off.append(SoundMeasures(try filled(elsewhere, seed: seed)).part(gap).flatness)
        }
        let kept = SoundMeasures(input).part(gap).flatness
        Self.report("inpainting", "gap flatness of the input \(kept); filled \(on); masked elsewhere \(off)")
        #expect(Self.agreeing(on.map { $0 > 0.3 }) >= 8, "gap flatness filled \(on), input \(kept)")
        let effect = EditEffect(on: on, off: off)
        #expect(effect.exceedsSpread(by: Self.margin), "gap flatness filled against masked elsewhere: \(effect)")
    }

    /// The source and the edited outputs of a prompt-to-prompt run from the shared noise of `seed`;
    /// `edit` nil runs the same batch with no controller.
    private func promptToPrompt(_ prompts: [String], edit: PromptEdit?, seed: UInt64) throws -> (SoundMeasures, SoundMeasures) {
        var noise = NoiseSource(seed: seed)
        let settings = request(prompts[0])
        let controller = try edit?.makeController(prompts: prompts, tokenizer: pipeline.tokenizer, steps: settings.stepCount,
                                                  layersPerEvaluation: pipeline.unetConfiguration.attentionLayerCount)
        let outputs = try pipeline.promptToPrompt(prompts, request: settings, noise: &noise, initialNoise: .shared,
                                                  controller: controller).outputs
        return (SoundMeasures(outputs[0].audio.channels[0]), SoundMeasures(outputs[1].audio.channels[0]))
    }

    /// The noise share in dB: energy away from the beep over energy near it.
    static func noiseToBeepDecibels(_ sound: SoundMeasures) -> Double {
        let share = sound.shareAwayFromDominant()
        return 10 * log10(share / max(1 - share, 1e-12))
    }

    /// The twin with weight 1 is the source output of the same batch: the same prompt from the same
    /// shared noise, with no weight (the controller would hand it its own maps).
    @Test("reweighting: weight 2 on 'noise' in 'a beep and white noise' raises the noise-to-beep ratio (≥ 7 of 10 seeds) by more than 2 seed spreads of its weight-1 twin")
    func reweight() throws {
        let prompt = "a beep and white noise"
        var on: [Double] = [], off: [Double] = []
        for seed in Self.seeds {
            let (plain, weighted) = try promptToPrompt([prompt, prompt], edit: PromptEdit(alignment: .none, weights: [("noise", 2)]),
                                                       seed: seed)
            (on, off) = (on + [Self.noiseToBeepDecibels(weighted)], off + [Self.noiseToBeepDecibels(plain)])
        }
        Self.report("reweighting", "noise to beep dB at weight 2 \(on), at 1 \(off)")
        #expect(Self.agreeing(zip(on, off).map { $0 > $1 }) >= 7, "noise to beep dB at weight 2, 1: \(on), \(off)")
        let effect = EditEffect(on: on, off: off)
        withKnownIssue("the shipped model moves the mix by less than seeds do (docs/mini-model.md, held-out figures)") {
            #expect(effect.exceedsSpread(by: Self.margin), "noise to beep dB, weight 2 against 1: \(effect)")
        }
    }

    @Test("word swap from one shared start noise: 'a low pitched beep' → 'a high pitched beep' raises the pitch (≥ 7 of 10 seeds) and keeps the beeps' timing better than the same batch without the controller")
    func wordSwap() throws {
        let prompts = ["a low pitched beep", "a high pitched beep"]
        func timing(_ pair: (SoundMeasures, SoundMeasures)) -> Double {
            SoundMeasures.correlation(pair.0.envelopeDecibels(window: 0.02), pair.1.envelopeDecibels(window: 0.02))
        }
        var pitches: [(Double, Double)] = [], on: [Double] = [], off: [Double] = []
        for seed in Self.seeds {
            let swapped = try promptToPrompt(prompts, edit: PromptEdit(alignment: .swap), seed: seed)
            pitches.append((swapped.0.dominantFrequency, swapped.1.dominantFrequency))
            on.append(timing(swapped))
            off.append(timing(try promptToPrompt(prompts, edit: nil, seed: seed)))
        }
        Self.report("word swap", "low, high Hz \(pitches); envelope correlation swapped \(on), without controller \(off)")
        #expect(Self.agreeing(pitches.map { $0.1 > $0.0 }) >= 7, "low Hz, high Hz: \(pitches)")
        // Timing: the 20 ms envelopes in dB (floored 60 dB below the loudest window). On this model
        // the shared start noise times both prompts, with or without the replacement
        // (docs/mini-model.md), so the replacement's own share is not yet shown.
        let effect = EditEffect(on: on, off: off)
        withKnownIssue("the shared start noise, not the attention replacement, keeps the timing (docs/mini-model.md)") {
            #expect(effect.exceedsSpread(by: Self.margin), "envelope correlation swapped against no controller: \(effect)")
        }
    }
}

/// An edit's measured effect over seeds: the measure with the edit on and with it off, seed by seed.
struct EditEffect: CustomStringConvertible {
    let on: [Double], off: [Double]

    private static func mean(_ values: [Double]) -> Double { values.reduce(0, +) / Double(max(values.count, 1)) }
    private static func deviation(_ values: [Double]) -> Double {
        let centre = mean(values)
        return (values.reduce(0) { $0 + ($1 - centre) * ($1 - centre) } / Double(max(values.count - 1, 1))).squareRoot()
    }

    /// Mean of the edited measure minus mean of the unedited one.
    var difference: Double { Self.mean(on) - Self.mean(off) }
    /// How much the seeds alone move the measure: the larger standard deviation of the two.
    var spread: Double { max(Self.deviation(on), Self.deviation(off)) }

    /// Whether the edit moves the measure by more than `margin` seed spreads, in the edit's direction.
    func exceedsSpread(by margin: Double) -> Bool { difference > margin * spread }

    var description: String {
        let format = { (values: [Double]) in values.map { String(format: "%.3g", $0) }.joined(separator: ", ") }
        let ratio = spread > 0 ? String(format: "%.2f", difference / spread) : "∞"
        return String(format: "difference %.3g, spread %.3g", difference, spread)
            + " (\(ratio) spreads); on [\(format(on))], off [\(format(off))]"
    }
}
