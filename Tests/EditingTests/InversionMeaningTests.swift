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
@Suite("Embedded model: edits from an inversion keep the recording", .serialized)
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

    @Test("the command line's default start for a swap on a clip (DDIM inversion, 50 steps, source attention kept: cross 0.95, self 1) makes the beeps high (> 1 kHz, 10 of 10) and keeps their timing (≥ 0.8 in ≥ 8 of 10)")
    func defaultSwap() throws {
        var request = GenerationRequest(prompt: Self.high)
        request.guidanceScale = 7.5
        let defaults = ReplaceSchedule.defaults(fromInversion: true)
        let swap = PromptEdit(alignment: .swap, schedule: ReplaceSchedule(cross: 0...defaults.cross, self: 0...defaults.selfReplace))
        let start = EditPass.Start.inversion(InversionStart(.invert(InversionSettings(method: .ddim, sourcePrompt: Self.low))))
        var rows: [(timing: Double, pitch: Double)] = []
        for seed in Self.clips {
            let clip = try clip(seed: seed)
            var noise = NoiseSource(seed: seed)
            let pass = EditPass.promptEdit(.init(sourcePrompt: Self.low, edit: swap), request: request, start: start)
            let edited = try audio(try EditPlan([pass]).run(clip: clip, pipeline: pipeline, noise: &noise).output.latents, like: clip)
            rows.append((Self.timing(SoundMeasures(clip.audio.channels[0]), edited), edited.dominantFrequency))
        }
        let table = rows.map { String(format: "%.0f Hz, timing %.2f", $0.pitch, $0.timing) }
        #expect(rows.allSatisfy { $0.pitch > 1_000 }, "\(table)")
        #expect(rows.filter { $0.timing >= 0.8 }.count >= 8, "\(table)")
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
