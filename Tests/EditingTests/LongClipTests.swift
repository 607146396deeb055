import AudioDSP
import Editing
import Foundation
import Pipeline
import Testing
import TestSupport

/// Clips longer than the model's canvas (issue #17): where ``EditSpans`` runs a plan, and what the
/// windows do to the sound, measured on the embedded model (canvas 2.56 s) with clips made here
/// and held-out seeds (as ``EmbeddedModelTests``).
@Suite("Long clips: edits of any length, in windows of the canvas")
struct LongClipTests {
    let pipeline: AuffusionPipeline

    init() throws {
        pipeline = try EmbeddedModelRuns.pipeline()
    }

    private func request(_ prompt: String) -> GenerationRequest { EmbeddedModelRuns.request(prompt) }

    /// `seconds` of a clip the model did not make: a 255 Hz tone in bursts of 110 ms every 330 ms,
    /// under a slow tremolo so that no two canvases hold the same sound.
    private func bursts(seconds: Double) throws -> EditClip {
        let samples = (0..<Int(seconds * 16_000)).map { index -> Float in
            let t = Double(index) / 16_000
            let gate = t.truncatingRemainder(dividingBy: 0.33) < 0.11 ? 1.0 : 0.0
            return Float(gate * (0.2 + 0.1 * sin(2 * .pi * 0.3 * t)) * sin(2 * .pi * 255 * t))
        }
        return try EditClip(AudioBuffer(mono: samples, sampleRate: 16_000), pipeline: pipeline)
    }

    private func fill(_ clip: EditClip, _ ranges: [Range<Double>], prompt: String = "white noise",
                      seed: UInt64) throws -> LongEditResult {
        let mask = try EditMask(ranges: ranges, clipDuration: clip.duration, maximumFrequency: pipeline.melParameters.maximumFrequency)
        var noise = NoiseSource(seed: seed)
        return try EditPlan([.inpainting(mask: mask, request: request(prompt))]).run(on: clip, pipeline: pipeline, noise: &noise)
    }

    @Test("the planner: one canvas around a short mask of a long clip, windows for a mask longer than a canvas, the whole clip for a restyle, one canvas for a short clip")
    func planner() throws {
        let canvas = pipeline.canvasFrames   // 256 frames = 2.56 s
        func spans(_ pass: EditPass, clipSeconds: Double) -> EditSpans {
            EditSpans(plan: EditPlan([pass]), clipFrames: Int(clipSeconds * 100), pipeline: pipeline)
        }
        func mask(_ ranges: [Range<Double>], _ seconds: Double) throws -> EditPass {
            .inpainting(mask: try EditMask(ranges: ranges, clipDuration: seconds), request: request("x"))
        }
        // 1.5 s and an eighth of the canvas on each side fit in the embedded model's 2.56 s.
        let oneMask = try spans(mask([120..<121.5], 180), clipSeconds: 180)
        #expect(oneMask.spans.count == 1 && oneMask.windowCount == 1 && oneMask.spans[0].frames.count == canvas)
        #expect(oneMask.spans[0].frames.contains(12_000 - canvas / 8) && oneMask.spans[0].frames.contains(12_149 + canvas / 8))
        let atTheEnd = try spans(mask([179..<180], 180), clipSeconds: 180)
        #expect(atTheEnd.spans[0].frames.upperBound == 18_000 && atTheEnd.spans[0].frames.count == canvas)
        // A clip whose length is off the latent grid (7.00 s: 700 frames, the grid 8): a mask that
        // reaches the end, or lies wholly in its last partial column, is covered to the last frame.
        // Two fills whose canvases only touch (60 s, masks 14.63-15.63 s and 24.94-25.94 s on
        // the full model's grid; here scaled to the embedded canvas) stay two canvases.
        let touching = try spans(mask([3.66..<3.91, 6.235..<6.485], 15), clipSeconds: 15)
        #expect(touching.spans.count == 2 && touching.windowCount == 2, "\(touching.spans.map(\.frames))")
        for range in [6.7..<7.0, 6.97..<7.0] {
            let end = try spans(mask([range], 7), clipSeconds: 7)
            #expect(end.spans.count == 1 && end.spans[0].frames.upperBound == 700 && end.spans[0].frames.count <= canvas,
                    "\(range): \(end.spans[0].frames)")
            #expect(end.spans[0].frames.lowerBound % pipeline.downsamplingFactor == 0 && end.windowCount == 1)
        }
        let twoMasks = try spans(mask([10..<11, 60..<61], 180), clipSeconds: 180)
        #expect(twoMasks.spans.count == 2 && twoMasks.windowCount == 2)
        let longMask = try spans(mask([8..<11.5], 20), clipSeconds: 20)
        #expect(longMask.spans.count == 1 && longMask.windowCount >= 2 && longMask.spans[0].frames.contains(800)
                && longMask.spans[0].frames.contains(1149))
        let restyle = spans(.styleTransfer(strength: 0.5, request: request("x")), clipSeconds: 20)
        #expect(restyle.spans.map(\.frames) == [0..<2000] && restyle.windowCount == LatentWindows(spanWidth: 250, windowWidth: 32).offsets.count)
        let short = spans(.styleTransfer(strength: 0.5, request: request("x")), clipSeconds: 2)
        #expect(short.spans.map(\.frames) == [0..<200] && short.spans[0].canvasFrames == canvas && short.windowCount == 1)
    }

    @Test("a 20 s clip filled at 12.0–13.5 s keeps its length and every sample outside the mask; the fill is noise (3 held-out seeds)")
    func longFill() throws {
        let clip = try bursts(seconds: 20)
        let input = clip.audio.channels[0]
        for seed: UInt64 in 100..<103 {
            let result = try fill(clip, [12.0..<13.5], seed: seed)
            let output = result.edit.output.audio.channels[0]
            #expect(output.count == input.count && result.spans.windowCount == 1)
            let changed = output.indices.filter { output[$0] != input[$0] }
            #expect(changed.allSatisfy { (12.0..<13.5).contains(Double($0) / 16_000) },
                    "seed \(seed): changed samples from \(Double(changed.first ?? 0) / 16_000) to \(Double(changed.last ?? 0) / 16_000) s")
            let filled = SoundMeasures(output).part(12.0..<13.5).flatness, kept = SoundMeasures(input).part(12.0..<13.5).flatness
            #expect(filled > 0.3 && filled > 3 * kept, "seed \(seed): flatness filled \(filled), input \(kept)")
        }
    }

    @Test("a mask longer than a canvas (8.0–11.5 s) is filled in joint windows: every half second of it becomes noise, as inside one window (3 held-out seeds)")
    func fillAcrossWindows() throws {
        let clip = try bursts(seconds: 20)
        let input = SoundMeasures(clip.audio.channels[0])
        var figures: [String] = []
        for seed: UInt64 in 100..<103 {
            let result = try fill(clip, [8.0..<11.5], seed: seed)
            #expect(result.spans.windowCount >= 2)
            let output = SoundMeasures(result.edit.output.audio.channels[0])
            let halves = stride(from: 8.0, to: 11.5, by: 0.5).map { start in
                (output.part(start..<start + 0.5).flatness, input.part(start..<start + 0.5).flatness)
            }
            figures.append("seed \(seed): " + halves.map { String(format: "%.2f/%.2f", $0.0, $0.1) }.joined(separator: " "))
            #expect(halves.allSatisfy { $0.0 > 0.25 && $0.0 > 3 * $0.1 }, "\(figures.last ?? "")")
        }
        print("long clips, fill across windows, flatness filled/input per half second: \(figures.joined(separator: "; "))")
    }

    @Test("a fill that reaches the end of a clip whose length is off the latent grid (3.00 s: 300 frames, the grid 8) replaces its last samples, also when it lies wholly in the last partial column")
    func fillToTheEnd() throws {
        let clip = try bursts(seconds: 3)
        let input = clip.audio.channels[0]
        for range in [2.7..<3.0, 2.97..<3.0] {
            let output = try fill(clip, [range], seed: 100).edit.output.audio.channels[0]
            #expect(output.count == input.count)
            let last = (input.count - 160)..<input.count   // the last 10 ms
            #expect(last.contains { output[$0] != input[$0] }, "\(range): the clip's last 10 ms were kept")
            #expect(output[..<Int(range.lowerBound * 16_000 - 320)] == input[..<Int(range.lowerBound * 16_000 - 320)])
        }
    }

    @Test("a clip encoded on one canvas (cropped to it) refuses a mask past the canvas instead of editing nothing there")
    func maskPastTheCrop() throws {
        let clip = try bursts(seconds: 4)
        var none: NoiseSource?
        let cropped = try ClipLatents(encoding: clip.audio, pipeline: pipeline, posteriorNoise: &none)
        #expect(cropped.duration < 3)
        func plan(_ range: Range<Double>) throws -> EditPlan {
            EditPlan([.inpainting(mask: try EditMask(ranges: [range], clipDuration: 4), request: request("white noise"))])
        }
        #expect(throws: EditingError.self) { try plan(3.0..<3.5).validate(clip: cropped, pipeline: pipeline) }
        #expect(try plan(2.0..<2.5).validate(clip: cropped, pipeline: pipeline).count == 1)
    }

    @Test("a word swap of a 6 s clip, run in windows with one controller each, raises the pitch in every third of it (3 held-out seeds) and keeps maps as long as the clip")
    func swapAcrossWindows() throws {
        let clip = try bursts(seconds: 6)
        for seed: UInt64 in 100..<103 {
            var noise = NoiseSource(seed: seed)
            let edit = PromptEdit(alignment: .swap, weights: [], schedule: ReplaceSchedule())
            let pass = EditPass.promptEdit(.init(sourcePrompt: "a low pitched beep", edit: edit), request: request("a high pitched beep"),
                                           start: .clip(strength: 0.7))
            let result = try EditPlan([pass]).run(on: clip, pipeline: pipeline, noise: &noise, renderSource: true)
            #expect(result.spans.windowCount >= 3)
            let store = try #require(result.edit.attentionStore, "the windows' maps joined over the clip")
            let level = store.storedResolution(atLevelOf: AttentionResolution(height: 8, width: 32))
            #expect(level == AttentionResolution(height: 8, width: result.spans.spans[0].windows.spanWidth))
            let edited = SoundMeasures(result.edit.output.audio.channels[0])
            let source = SoundMeasures(try #require(result.edit.source).audio.channels[0])
            let thirds = [0.0..<2.0, 2.0..<4.0, 4.0..<6.0].map { (edited.part($0).dominantFrequency, source.part($0).dominantFrequency) }
            #expect(thirds.allSatisfy { $0.0 > $0.1 * 1.2 }, "seed \(seed): edited, source Hz per third \(thirds)")
        }
    }

    @Test("a long clip's encoding, decoding and vocoding report every window in order around the steps, and stop when the handler says so")
    func renderingProgress() throws {
        let clip = try bursts(seconds: 6)
        let plan = EditPlan([EditPass(start: .clip(strength: 0.5), request: request("white noise"))])
        var stages: [(RenderProgress.Stage?, Int, Int)] = []
        var noise = NoiseSource(seed: 11)
        _ = try plan.run(on: clip, pipeline: pipeline, noise: &noise) { progress in
            stages.append((progress.rendering?.stage, progress.rendering?.done ?? progress.stepsDone,
                           progress.rendering?.total ?? progress.totalSteps))
            return true
        }
        var sized = request("white noise")
        sized.duration = clip.duration
        let windows = pipeline.windows(of: sized).offsets.count
        #expect(windows >= 3)
        for stage in [RenderProgress.Stage.encoding, .decoding] {
            let reports = stages.filter { $0.0 == stage }
            #expect(reports.map(\.1) == Array(1...windows) && reports.allSatisfy { $0.2 == windows }, "\(stage): \(reports)")
        }
        let order = stages.map { $0.0.map(\.rawValue) ?? "step" }.reduce(into: [String]()) { if $0.last != $1 { $0.append($1) } }
        #expect(order == ["encoding", "step", "decoding", "vocoding"], "\(order)")
        let vocoding = stages.filter { $0.0 == .vocoding }
        #expect(vocoding.last.map { $0.1 == $0.2 } == true, "\(vocoding.suffix(2))")

        for stop in [RenderProgress.Stage.encoding, .decoding, .vocoding] {
            var after: [RenderProgress] = []
            var stopped = false
            var noise = NoiseSource(seed: 11)
            #expect(throws: PipelineError.cancelled, "\(stop)") {
                _ = try plan.run(on: clip, pipeline: pipeline, noise: &noise) { progress in
                    if stopped, let rendering = progress.rendering { after.append(rendering) }
                    if progress.rendering?.stage == stop { stopped = true }
                    return !stopped
                }
            }
            #expect(stopped && after.isEmpty, "\(stop): went on to \(after.prefix(3))")
        }
    }

    @Test("a clip whose latents a caller already has is not encoded again by a plan that changes it whole, and edits to the same bits")
    func encodedOnce() throws {
        var clip = try bursts(seconds: 6)
        let plan = EditPlan([EditPass(start: .clip(strength: 0.5), request: request("white noise"))])
        func run(_ clip: EditClip) throws -> (audio: [Float], encodings: Int) {
            var noise = NoiseSource(seed: 11), encodings = 0
            let result = try plan.run(on: clip, pipeline: pipeline, noise: &noise) { progress in
                encodings += progress.rendering?.stage == .encoding ? 1 : 0
                return true
            }
            return (result.edit.output.audio.channels[0], encodings)
        }
        let fresh = try run(clip)
        var none: NoiseSource?
        clip.encoded = try clip.latents(pipeline: pipeline, posteriorNoise: &none)
        let reused = try run(clip)
        #expect(fresh.encodings >= 3 && reused.encodings == 0, "\(fresh.encodings), \(reused.encodings)")
        #expect(reused.audio.map(\.bitPattern) == fresh.audio.map(\.bitPattern))
        // Latents of another canvas (a 2 s clip's) are not taken for this clip's: it is encoded afresh.
        clip.encoded = try bursts(seconds: 2).latents(pipeline: pipeline, posteriorNoise: &none)
        let mismatched = try run(clip)
        #expect(mismatched.encodings == fresh.encodings && mismatched.audio.map(\.bitPattern) == fresh.audio.map(\.bitPattern))
    }

    @Test("a 20 s restyle and a 20 s generation show no seams: at the window edges, the spectral flux and the level change are typical of the rest of the sound, where hard splices at the same places are not")
    func noSeams() throws {
        let clip = try bursts(seconds: 20)
        var noise = NoiseSource(seed: 100)
        let restyle = try EditPlan([.styleTransfer(strength: 0.6, request: request("a high pitched sine tone"))])
            .run(on: clip, pipeline: pipeline, noise: &noise)
        let factor = pipeline.downsamplingFactor
        func edges(_ windows: LatentWindows) -> [Double] {
            windows.offsets.indices.flatMap { index in
                [windows.columns(of: index).lowerBound, windows.columns(of: index).upperBound].map { Double($0 * factor) / 100 }
            }.filter { $0 > 0 && $0 < 19.9 }.sorted()
        }
        let restyled = restyle.edit.output.audio.channels[0], restyleEdges = edges(restyle.spans.spans[0].windows)
        #expect(try Seams(restyled, edges: restyleEdges, what: "restyle").areTypical)
        var long = request("a beep followed by white noise")
        long.duration = 20
        var generationNoise = NoiseSource(seed: 101)
        let generated = try pipeline.generate(long, noise: &generationNoise).audio.channels[0]
        #expect(generated.count == 320_000)
        let windows = LatentWindows(spanWidth: pipeline.canvas(of: long).frames / factor, windowWidth: pipeline.canvasLatentWidth)
        #expect(try Seams(generated, edges: edges(windows), what: "generation").areTypical)
        // The control: the two sounds spliced hard into each other at the same edges are seamed.
        var spliced = restyled
        for (index, pair) in zip(restyleEdges, restyleEdges.dropFirst()).enumerated() where index % 2 == 0 {
            let range = Int(pair.0 * 16_000)..<Int(pair.1 * 16_000)
            spliced.replaceSubrange(range, with: generated[range])
        }
        #expect(try !Seams(spliced, edges: restyleEdges, what: "control: hard splices").areTypical)
    }
}

/// The seam statistic: `samples` in blocks of 0.128 s; between neighbouring blocks, the spectral
/// flux (mean absolute change of the log power in 16 log-spaced bands, dB) and the level change
/// (dB), both floored 50 dB below the loudest block so that silence's noise floor does not count.
/// The sound is typical at the window edges when, for both measures, the mean over the block
/// boundaries nearest the edges exceeds the mean over the boundaries more than 0.3 s from every
/// edge by at most a margin: 1 dB of flux, 3 dB of level change. A seam is systematic, so it
/// moves the mean; a sound whose windows join well has edges like any other place. (The 90th
/// percentile was tried as the bound first: hard splices of two sounds passed it.)
struct Seams {
    let areTypical: Bool

    init(_ samples: [Float], edges: [Double], what: String) throws {
        let block = 2048, sound = SoundMeasures(samples), count = samples.count / block
        func part(_ index: Int) -> SoundMeasures { sound.part(Double(index * block) / 16_000..<Double((index + 1) * block) / 16_000) }
        let bands = (0...16).map { Int(4 * pow(220.0, Double($0) / 16)) }       // bins 4 … 880 of 1025, log-spaced
        var spectra = (0..<count).map { index -> [Double] in
            let power = part(index).powerSpectrum
            return (0..<16).map { band in 10 * log10(power[bands[band]..<max(bands[band + 1], bands[band] + 1)].reduce(1e-20, +)) }
        }
        let loudestBand = spectra.flatMap { $0 }.max() ?? 0
        spectra = spectra.map { $0.map { max($0, loudestBand - 50) } }
        var levels = (0..<count).map { part($0).energyDecibels }
        let loudest = levels.max() ?? 0
        levels = levels.map { max($0, loudest - 50) }
        func flux(_ boundary: Int) -> Double { zip(spectra[boundary - 1], spectra[boundary]).map { abs($0 - $1) }.reduce(0, +) / 16 }
        func level(_ boundary: Int) -> Double { abs(levels[boundary] - levels[boundary - 1]) }
        let atEdges = Set(edges.map { Int(($0 * 16_000 / Double(block)).rounded()) }.filter { $0 > 0 && $0 < count })
        let elsewhere = (1..<count).filter { boundary in edges.allSatisfy { abs(Double(boundary * block) / 16_000 - $0) > 0.3 } }
        var typical = true
        for (name, measure, margin) in [("flux", flux, 1), ("level change", level, 3)] as [(String, (Int) -> Double, Double)] {
            let seams = atEdges.map(measure), rest = elsewhere.map(measure)
            let mean = seams.reduce(0, +) / Double(max(seams.count, 1)), restMean = rest.reduce(0, +) / Double(max(rest.count, 1))
            print(String(format: "long clips, %@, %@: mean at %d window edges %.2f dB, elsewhere (%d) %.2f dB",
                         what, name, seams.count, mean, rest.count, restMean))
            typical = typical && mean - restMean <= margin
        }
        areTypical = typical
    }
}
