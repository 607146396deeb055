import AudioDSP
import Compute
import Editing
import Pipeline
import Testing
import TestSupport

@Suite("Inpainting against diffusers 0.18.2 and the splice into the clip")
struct InpaintingTests {
    private func inpainting(_ c: EditingCase, clip: ClipLatents) throws -> Inpainting {
        let ranges = c.mask.map { $0[0]..<$0[1] }
        var inpainting = Inpainting(mask: try EditMask(ranges: ranges, clipDuration: clip.duration))
        inpainting.strength = c.strength
        return inpainting
    }

    @Test("raw result: mel within Tolerance.edit", arguments: try EditingCase.all("inpaint"))
    func parity(_ c: EditingCase) throws {
        let (pipeline, clip) = try fixtureClip()
        var edit = try inpainting(c, clip: clip)
        edit.raw = true
        var noise = NoiseSource(seed: c.noise_seed)
        let result = try edit.run(on: clip, request: c.request, pipeline: pipeline, noise: &noise)
        let mel = compare(result.logMel, try Fixtures.tensor("editing/\(c.name).mel.npy"))
        #expect(mel.isWithin(.edit), "\(mel)")
    }

    @Test("default: every sample outside the mask is the input's", arguments: try EditingCase.all("inpaint"))
    func keepsOutside(_ c: EditingCase) throws {
        let (pipeline, clip) = try fixtureClip()
        let edit = try inpainting(c, clip: clip)
        var noise = NoiseSource(seed: c.noise_seed)
        let output = try edit.run(on: clip, request: c.request, pipeline: pipeline, noise: &noise).audio.channels[0]
        let input = try AudioFile.read(Fixtures.url("editing/clip.wav")).channels[0]
        let masked = edit.mask.samples(sampleRate: 16000)
        #expect(output.count == input.count)
        let outside = input.indices.filter { index in !masked.contains { $0.contains(index) } }
        #expect(outside.allSatisfy { output[$0] == input[$0] })
        #expect(masked.allSatisfy { range in range.contains { output[$0] != input[$0] } })
    }

    @Test("the equal-power crossfade is continuous and keeps the outside exact")
    func crossfade() {
        let original = [Float](repeating: 1, count: 1000), generated = [Float](repeating: -1, count: 1000)
        let output = Crossfade.splice(generated, into: original, ranges: [200..<700], length: 100)
        #expect(output[..<200].allSatisfy { $0 == 1 } && output[700...].allSatisfy { $0 == 1 })
        #expect(output[300..<600].allSatisfy { $0 == -1 })
        let largestJump = zip(output, output.dropFirst()).map { abs($1 - $0) }.max() ?? 0
        #expect(largestJump <= 2 * Float.pi / 200 + 1e-5)   // ≤ π/(2·length) of the 2-unit difference
        let edges = Crossfade.splice(generated, into: original, ranges: [0..<100, 900..<1000], length: 50)
        #expect(edges[0] == -1 && edges[999] == -1)       // no fade at the clip's ends
    }

    @Test("bad crossfade is a clear error")
    func badCrossfade() throws {
        let (pipeline, clip) = try fixtureClip()
        var edit = Inpainting(mask: try EditMask(ranges: [0.1..<0.2], clipDuration: clip.duration))
        edit.crossfadeSeconds = -1
        var noise = NoiseSource(seed: 0)
        #expect(throws: EditingError.invalidCrossfade(-1000)) {
            try edit.run(on: clip, request: GenerationRequest(prompt: "a cat"), pipeline: pipeline, noise: &noise)
        }
    }
}
