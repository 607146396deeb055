import AudioDSP
import Compute
import Editing
import Foundation
import Pipeline
import Testing
import TestSupport

/// Tests of meaning of inversion on the embedded model (`docs/mini-model.md`), on clips it did not
/// generate: trains of 200 Hz square-wave bursts synthesised here, four bursts of 0.15–0.3 s at
/// seeded places in 2.56 s, inverted under "a low pitched beep" on 20 DDIM steps from 10 (cheap
/// enough for every test run). No parity test can show these: random weights have no meaning.
@Suite("Embedded model: edits from an inversion keep the recording")
struct InversionMeaningTests {
    static let clips: [UInt64] = Array(100..<110)
    static let low = "a low pitched beep", high = "a high pitched beep"
    let pipeline: AuffusionPipeline

    init() throws {
        pipeline = try AuffusionPipeline(folder: EmbeddedModel.defaultFolder(environment: [:]))
    }

    /// The burst train of `seed`: samples at 16 kHz.
    static func bursts(seed: UInt64, frequency: Double = 200) -> [Float] {
        var random = SeededNumbers(seed)
        var samples = [Float](repeating: 0, count: 40_960)
        for slot in 0..<4 {
            let length = Int((0.15 + 0.15 * random.next()) * 16_000)
            let start = Int((Double(slot) * 0.64 + 0.05 + 0.25 * random.next()) * 16_000)
            for index in start..<min(start + length, samples.count) {
                samples[index] = sin(2 * .pi * frequency * Double(index) / 16_000) >= 0 ? 0.4 : -0.4
            }
        }
        return samples
    }

    func clip(seed: UInt64) throws -> ClipLatents {
        var posterior: NoiseSource?
        return try ClipLatents(encoding: AudioBuffer(mono: Self.bursts(seed: seed), sampleRate: 16_000), pipeline: pipeline,
                               posteriorNoise: &posterior)
    }

    func invert(_ clip: ClipLatents, _ settings: InversionSettings, seed: UInt64) throws -> Inversion {
        var noise = NoiseSource(seed: seed)
        return try Inversion(inverting: clip, settings: settings, pipeline: pipeline, noise: &noise)
    }

    func audio(_ latents: Tensor, like clip: ClipLatents) throws -> SoundMeasures {
        SoundMeasures(try pipeline.render(latents, duration: clip.duration).audio.channels[0])
    }

    static func timing(_ a: SoundMeasures, _ b: SoundMeasures) -> Double {
        SoundMeasures.correlation(a.envelopeDecibels(window: 0.02), b.envelopeDecibels(window: 0.02))
    }

    @Test("identity: DDPM inversion regenerated with the same prompt returns the clip's codec round trip (mel nmse ≤ 1e-3, 5 of 5)")
    func identity() throws {
        let settings = InversionSettings(method: .ddpm, sourcePrompt: Self.low, stepCount: 20, startStep: 10)
        var errors: [Double] = []
        for seed in Self.clips.prefix(5) {
            let clip = try clip(seed: seed)
            let inversion = try invert(clip, settings, seed: seed)
            var request = GenerationRequest(prompt: settings.sourcePrompt)
            request.guidanceScale = settings.guidance
            let latents = try inversion.edit(request, pipeline: pipeline)
            let roundTrip = try pipeline.render(clip.latents, duration: clip.duration).logMel
            errors.append(compare(try pipeline.render(latents, duration: clip.duration).logMel, roundTrip).nmse)
        }
        #expect(errors.allSatisfy { $0 <= 1e-3 }, "mel nmse against the codec round trip: \(errors)")
    }

    @Test("swap 'low' → 'high' from an inversion raises the pitch (10 of 10) and keeps the bursts' timing better than from SDEdit's start (≥ 9 of 10), for both inversions")
    func swap() throws {
        var request = GenerationRequest(prompt: Self.high)
        request.stepCount = 20
        request.guidanceScale = 7.5
        let prompts = [Self.low, Self.high], swap = PromptEdit(alignment: .swap)
        var rows: [(input: Double, sdedit: Double, ddpm: Double, ddim: Double, pitches: [Double])] = []
        for seed in Self.clips {
            let clip = try clip(seed: seed)
            let input = SoundMeasures(clip.audio.channels[0])
            var noise = NoiseSource(seed: seed)
            let sdedit = try pipeline.promptToPrompt(prompts, edit: swap, on: clip, strength: 0.5, request: request, noise: &noise)
            let fromSDEdit = SoundMeasures(sdedit.outputs[1].audio.channels[0])
            var edits: [SoundMeasures] = []
            for method in InversionSettings.Method.allCases {
                let settings = InversionSettings(method: method, sourcePrompt: Self.low, stepCount: 20, startStep: 10)
                let (latents, _) = try invert(clip, settings, seed: seed).promptToPrompt(prompts, edit: swap, request: request,
                                                                                          pipeline: pipeline)
                edits.append(try audio(latents.sliced(axis: 0, 1..<2), like: clip))
            }
            rows.append((input.dominantFrequency, Self.timing(input, fromSDEdit), Self.timing(input, edits[0]),
                         Self.timing(input, edits[1]), edits.map(\.dominantFrequency)))
        }
        let table = rows.map { String(format: "%.0f Hz → %.0f/%.0f Hz, timing SDEdit %.2f DDPM %.2f DDIM %.2f",
                                      $0.input, $0.pitches[0], $0.pitches[1], $0.sdedit, $0.ddpm, $0.ddim) }
        #expect(rows.allSatisfy { row in row.pitches.allSatisfy { $0 > 2 * row.input } }, "\(table)")
        #expect(rows.filter { $0.ddpm > $0.sdedit }.count >= 9, "\(table)")
        #expect(rows.filter { $0.ddim > $0.sdedit }.count >= 9, "\(table)")
    }

    /// The twin of each swap is the same pass without its attention edit: the clip's inversion
    /// under the source prompt regenerated under the target, guided away from the source as the
    /// swap is by default (``EditPass/Attention/sourceAsNegative``), so what the replacement itself keeps
    /// is measured where it matters, from an inversion (docs/mini-model.md). Both start from one
    /// saved inversion (what `--inversion FILE` reads), made with the command line's settings.
    @Test("the command line's default start for a swap on a clip (DDIM inversion, 50 steps, source attention kept: cross 0.95, self 1; the source prompt as the negative) makes the beeps high (> 1 kHz, 10 of 10) and keeps their timing (≥ 0.8 in ≥ 9 of 10), better than its twin without the attention edit (≥ 8 of 10, by more than 2 clip spreads)")
    func defaultSwap() throws {
        var request = GenerationRequest(prompt: Self.high)
        request.guidanceScale = 7.5
        let defaults = ReplaceSchedule.defaults(fromInversion: true)
        let swap = PromptEdit(alignment: .swap, schedule: ReplaceSchedule(cross: 0...defaults.cross, self: 0...defaults.selfReplace))
        let saved = try Fixtures.temporaryDirectory().appendingPathComponent("clip.inversion")
        let start = EditPass.Start.inversion(InversionStart(.file(saved)))
        var steered = request
        steered.negativePrompt = Self.low
        let passes = [EditPass.promptEdit(.init(sourcePrompt: Self.low, edit: swap), request: request, start: start),
                      EditPass(start: start, request: steered)]
        var rows: [(timing: Double, pitch: Double, twin: Double)] = []
        for seed in Self.clips {
            let clip = try clip(seed: seed)
            let input = SoundMeasures(clip.audio.channels[0])
            try invert(clip, InversionSettings(method: .ddim, sourcePrompt: Self.low), seed: seed).write(to: saved, pipeline: pipeline)
            let edits = try passes.map { pass in
                var noise = NoiseSource(seed: seed)
                return try audio(try EditPlan([pass]).run(clip: clip, pipeline: pipeline, noise: &noise).output.latents, like: clip)
            }
            rows.append((Self.timing(input, edits[0]), edits[0].dominantFrequency, Self.timing(input, edits[1])))
        }
        let table = rows.map { String(format: "%.0f Hz, timing %.2f (twin %.2f)", $0.pitch, $0.timing, $0.twin) }
        #expect(rows.allSatisfy { $0.pitch > 1_000 }, "\(table)")
        #expect(rows.filter { $0.timing >= 0.8 }.count >= 9, "\(table)")
        #expect(rows.filter { $0.timing > $0.twin }.count >= 8, "\(table)")
        let effect = EditEffect(on: rows.map(\.timing), off: rows.map(\.twin))
        #expect(effect.exceedsSpread(by: EmbeddedModelTests.margin), "timing, swap against its twin: \(effect); \(table)")
        print("inversion default swap: \(effect); \(table.joined(separator: "; "))")
    }
}

extension InversionMeaningTests {
    /// The burst train of `seed` under white noise of standard deviation 0.05 (−26 dBFS), and
    /// the samples that lie between the bursts, at least 30 ms from any.
    static func mix(seed: UInt64) -> (samples: [Float], gaps: [Int]) {
        let bursts = Self.bursts(seed: seed)
        var random = SeededNumbers(seed &+ 1000)
        let samples = bursts.map { burst -> Float in
            let (u, v) = (max(random.next(), 1e-12), random.next())
            return burst + Float(0.05 * (-2 * log(u)).squareRoot() * cos(2 * .pi * v))
        }
        let margin = 480
        var near = [Bool](repeating: false, count: bursts.count)
        for index in bursts.indices where bursts[index] != 0 {
            for other in max(0, index - margin)..<min(bursts.count, index + margin + 1) { near[other] = true }
        }
        return (samples, bursts.indices.filter { !near[$0] })
    }

    /// The noise between the bursts against the whole sound, in dB: what a weight on "noise" should move.
    static func gapLevel(_ samples: [Float], gaps: [Int]) -> Double {
        let gapPower = gaps.reduce(0.0) { $0 + Double(samples[$1] * samples[$1]) } / Double(max(gaps.count, 1))
        let power = samples.reduce(0.0) { $0 + Double($1 * $1) } / Double(max(samples.count, 1))
        return 10 * log10(max(gapPower, 1e-20) / max(power, 1e-20))
    }

    @Test("reweighting 'noise' from a DDIM inversion of a beep-and-noise mix: against its weight-1 twin, weight 2 raises and weight 0.5 lowers the noise between the bursts (≥ 8 of 10 clips each), the bursts' timing kept (≥ 0.8 in ≥ 8 of 10)")
    func reweight() throws {
        let prompt = "a beep and white noise"
        var request = GenerationRequest(prompt: prompt)
        (request.stepCount, request.guidanceScale) = (10, 7.5)
        let defaults = ReplaceSchedule.defaults(fromInversion: true)
        let schedule = ReplaceSchedule(cross: 0...defaults.cross, self: 0...defaults.selfReplace)
        let settings = InversionSettings(method: .ddim, sourcePrompt: prompt, stepCount: 10)
        var rows: [(levels: [Double], timings: [Double])] = []
        for seed in Self.clips {
            let (samples, gaps) = Self.mix(seed: seed)
            var posterior: NoiseSource?
            let clip = try ClipLatents(encoding: AudioBuffer(mono: samples, sampleRate: 16_000), pipeline: pipeline, posteriorNoise: &posterior)
            let inversion = try invert(clip, settings, seed: seed)
            let input = SoundMeasures(samples)
            var row: (levels: [Double], timings: [Double]) = ([], [])
            for weight: Float in [0.5, 1, 2] {
                let edit = PromptEdit(alignment: .none, weights: [("noise", weight)], schedule: schedule)
                let (latents, _) = try inversion.promptToPrompt([prompt, prompt], edit: edit, request: request, pipeline: pipeline)
                let edited = try pipeline.render(latents.sliced(axis: 0, 1..<2), duration: clip.duration).audio.channels[0]
                row.levels.append(Self.gapLevel(edited, gaps: gaps))
                row.timings.append(Self.timing(input, SoundMeasures(edited)))
            }
            rows.append(row)
        }
        let table = rows.map { String(format: "noise between bursts %.1f / %.1f / %.1f dB at 0.5 / 1 / 2, timing %.2f / %.2f",
                                      $0.levels[0], $0.levels[1], $0.levels[2], $0.timings[0], $0.timings[2]) }
        #expect(rows.filter { $0.levels[2] > $0.levels[1] }.count >= 8, "\(table)")
        #expect(rows.filter { $0.levels[0] < $0.levels[1] }.count >= 8, "\(table)")
        #expect(rows.filter { $0.timings[0] >= 0.8 && $0.timings[2] >= 0.8 }.count >= 8, "\(table)")
        print("inversion reweight: \(table.joined(separator: "; "))")
    }
}

/// A small seeded generator of uniform numbers in [0, 1) (SplitMix64), for placing bursts.
struct SeededNumbers {
    private var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> Double {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
    }
}
