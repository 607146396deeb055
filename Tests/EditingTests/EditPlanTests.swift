import Compute
import Editing
import Pipeline
import Testing
import TestSupport

@Suite("Composition: EditPass and EditPlan")
struct EditPlanTests {
    private static func request(_ prompt: String = "a cat meowing", steps: Int = 5) -> GenerationRequest {
        var request = GenerationRequest(prompt: prompt)
        request.stepCount = steps
        request.scheduler = .pndm
        return request
    }

    @Test("a one-pass plan equals style transfer bit for bit", arguments: [0.0, 0.4, 1.0])
    func transfer(strength: Double) throws {
        let (pipeline, clip) = try fixtureClip()
        var noise = NoiseSource(seed: 11)
        var heard: [Int] = []
        let single = try StyleTransfer(strength: strength).run(on: clip, request: Self.request(), pipeline: pipeline, noise: &noise) {
            heard.append($0.step)
            return true
        }
        var again = NoiseSource(seed: 11)
        let plan = EditPlan([EditPass(start: .clip(strength: strength), request: Self.request())])
        var rendering: [RenderProgress] = []
        let planned = try plan.run(clip: clip, pipeline: pipeline, noise: &again) { progress in
            rendering += progress.rendering.map { [$0] } ?? []
            return true
        }.output
        // A single run's handler hears each step once; the plan's also hears the rendering after them.
        #expect((strength == 0 || !heard.isEmpty) && heard == Array(heard.indices.map { $0 + 1 }) && !rendering.isEmpty && rendering.allSatisfy { $0.stage != .encoding },
                "\(heard), \(rendering)")
        #expect(planned.logMel.scalars == single.logMel.scalars)
        #expect(planned.audio.channels == single.audio.channels)
        #expect(planned.initialLatents.scalars == single.initialLatents.scalars)
    }

    @Test("a one-pass plan with a mask equals inpainting bit for bit, raw and spliced", arguments: [(0.6, true), (1.0, true), (1.0, false)])
    func inpaint(strength: Double, raw: Bool) throws {
        let (pipeline, clip) = try fixtureClip()
        let mask = try EditMask(ranges: [0.1..<0.3], band: 0..<4000, clipDuration: clip.duration)
        var edit = Inpainting(mask: mask)
        edit.strength = strength
        edit.raw = raw
        var noise = NoiseSource(seed: 12)
        let single = try edit.run(on: clip, request: Self.request(), pipeline: pipeline, noise: &noise)
        var again = NoiseSource(seed: 12)
        var plan = EditPlan([EditPass(start: .clip(strength: strength), constraint: .mask(mask), request: Self.request())])
        plan.raw = raw
        let planned = try plan.run(clip: clip, pipeline: pipeline, noise: &again).output
        #expect(planned.logMel.scalars == single.logMel.scalars)
        #expect(planned.audio.channels == single.audio.channels)
    }

    @Test("two masked passes keep every sample outside the union of their masks; an unmasked pass keeps none")
    func splicesOutsideMasks() throws {
        let (pipeline, clip) = try fixtureClip()
        let first = try EditMask(ranges: [0.05..<0.15], clipDuration: clip.duration)
        let second = try EditMask(ranges: [0.1..<0.2, 0.35..<0.4], clipDuration: clip.duration)
        let fill = EditPass(start: .clip(strength: 1), constraint: .mask(first), request: Self.request("a siren wailing"))
        let refill = EditPass(start: .previous(strength: 0.8), constraint: .mask(second), request: Self.request("a cat"))
        var noise = NoiseSource(seed: 21)
        let output = try EditPlan([fill, refill]).run(clip: clip, pipeline: pipeline, noise: &noise).output.audio.channels[0]
        let input = clip.audio.channels[0]
        let (a, b) = (first.samples(sampleRate: 16000), second.samples(sampleRate: 16000))
        #expect(a.count == 1 && b.count == 2 && a[0].overlaps(b[0]) && !a[0].overlaps(b[1]), "\(a) \(b)")
        let masked = [min(a[0].lowerBound, b[0].lowerBound)..<max(a[0].upperBound, b[0].upperBound), b[1]]
        let outside = input.indices.filter { index in !masked.contains { $0.contains(index) } }
        #expect(outside.allSatisfy { output[$0] == input[$0] })
        #expect(masked.allSatisfy { range in range.contains { output[$0] != input[$0] } })
        var again = NoiseSource(seed: 21)
        let restyled = try EditPlan([EditPass(start: .clip(strength: 0.5), request: Self.request()), refill])
            .run(clip: clip, pipeline: pipeline, noise: &again).output.audio.channels[0]
        #expect(outside.contains { restyled[$0] != input[$0] })
    }

    @Test("a one-pass plan with attention equals prompt-to-prompt on the clip bit for bit; an identity controller changes nothing")
    func attention() throws {
        let (pipeline, clip) = try fixtureClip()
        let identity = PromptEdit(alignment: .none, weights: [(word: "cat", factor: 1)])
        var noise = NoiseSource(seed: 13)
        let single = try pipeline.promptToPrompt(["a cat meowing", "a cat meowing"], edit: identity, on: clip, strength: 0.5,
                                                 request: Self.request(), noise: &noise)
        let pass = EditPass(start: .clip(strength: 0.5), attention: .init(sourcePrompt: "a cat meowing", edit: identity),
                            request: Self.request())
        var again = NoiseSource(seed: 13)
        let planned = try EditPlan([pass]).run(clip: clip, pipeline: pipeline, noise: &again).output
        #expect(planned.logMel.scalars == single.outputs.last?.logMel.scalars)
        var plain = NoiseSource(seed: 13)
        let without = try EditPlan([EditPass(start: .clip(strength: 0.5), request: Self.request())])
            .run(clip: clip, pipeline: pipeline, noise: &plain).output
        let mel = compare(planned.logMel, without.logMel)
        #expect(mel.isWithin(.batchRounding), "\(mel)")     // float rounding of the larger U-Net batch only
    }

    @Test("two chained passes run on the latents: restyle, then regenerate a range of the result")
    func chained() throws {
        let (pipeline, clip) = try fixtureClip()
        let mask = try EditMask(ranges: [0.2..<0.4], clipDuration: clip.duration)
        let restyle = EditPass(start: .clip(strength: 0.6), request: Self.request())
        let fill = EditPass(start: .previous(strength: 1), constraint: .mask(mask), request: Self.request("a siren wailing"))
        var noise = NoiseSource(seed: 14)
        let both = try EditPlan([restyle, fill]).run(clip: clip, pipeline: pipeline, noise: &noise).output
        var again = NoiseSource(seed: 14)
        let first = try EditPlan([restyle]).run(clip: clip, pipeline: pipeline, noise: &again).output
        #expect(both.audio.frameCount == clip.audio.frameCount)
        #expect(both.initialLatents.scalars == first.initialLatents.scalars)
        #expect(both.logMel.scalars != first.logMel.scalars)
        #expect(both.logMel.scalars.allSatisfy { $0.isFinite })
    }

    @Test("bad plans are errors that name the pass and the field")
    func errors() throws {
        let (pipeline, clip) = try fixtureClip()
        let ok = EditPass(start: .clip(strength: 0.5), request: Self.request())
        let noiseMask = EditPass(start: .noise, constraint: .mask(try EditMask(ranges: [0.1..<0.2], clipDuration: clip.duration)),
                                 request: Self.request())
        let unknownWord = EditPass(start: .previous(strength: 0.5),
                                   attention: .init(sourcePrompt: "a cat meowing", edit: PromptEdit(alignment: .none, weights: [(word: "dog", factor: 2)])),
                                   request: Self.request())
        var steps = ok
        steps.request.stepCount = 0
        let cases: [([EditPass], ClipLatents?, String)] = [
            ([], clip, "the plan has no passes"),
            ([EditPass(start: .previous(strength: 0.5), request: Self.request())], clip, "pass 1, start: the first pass has no previous"),
            ([ok, EditPass(start: .previous(strength: 1.5), request: Self.request())], clip, "pass 2, start.strength: must be in [0, 1], got 1.5"),
            ([ok], nil, "pass 1, start: a clip start needs an input clip"),
            ([ok, noiseMask], clip, "pass 2, mask: a mask keeps the start's latents"),
            ([ok, steps], clip, "pass 2, steps: must be at least 1"),
            ([ok, unknownWord], clip, "pass 2: \"dog\" is not a word of \"a cat meowing\""),
        ]
        for (passes, input, message) in cases {
            var noise = NoiseSource(seed: 0)
            do {
                _ = try EditPlan(passes).run(clip: input, pipeline: pipeline, noise: &noise)
                Issue.record("expected an error: \(message)")
            } catch let error as EditPlanError {
                #expect(error.description.hasPrefix(message), "\(error)")
            }
        }
    }
}
