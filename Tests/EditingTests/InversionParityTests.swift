import Compute
import Editing
import Foundation
import Models
import Pipeline
import Testing
import TestSupport

/// A case of `Tests/Fixtures/inversion/cases.json` (scripts/reference/inversion_fixtures.py).
struct InversionCase: Decodable, Sendable, CustomTestStringConvertible {
    let name: String
    let method: String
    let source: String
    let target: String
    let steps: Int
    let start: Int?
    let source_guidance: Float
    let target_guidance: Float
    let seed: UInt64?
    let cross: Double?
    let `self`: Double?
    var testDescription: String { name }

    static func all(_ method: String) -> [InversionCase] {
        ((try? Fixtures.json([InversionCase].self, "inversion/cases.json")) ?? []).filter { $0.method == method }
    }

    var settings: InversionSettings {
        InversionSettings(method: method == "ddpm" ? .ddpm : .ddim, sourcePrompt: source, stepCount: steps,
                          startStep: start ?? steps, guidance: source_guidance)
    }

    var request: GenerationRequest {
        var request = GenerationRequest(prompt: target)
        request.guidanceScale = target_guidance
        return request
    }

    func expected(_ kind: String) throws -> Tensor { try Fixtures.tensor("inversion/\(name).\(kind).npy") }

    /// The standard fixture pipeline, the fixture clip's latents and their inversion.
    func invert() throws -> (AuffusionPipeline, Tensor, Inversion) {
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("standard"))
        let latents = try Fixtures.tensor("editing/clip.latents.npy")
        var noise = NoiseSource(seed: seed ?? 0)
        return (pipeline, latents, try Inversion(inverting: latents, settings: settings, pipeline: pipeline, noise: &noise))
    }
}

/// The first `count` entries of `tensor` along axis 0.
func leading(_ tensor: Tensor, _ count: Int) -> Tensor { tensor.sliced(axis: 0, 0..<count) }

@Suite("Inversion against ZETA and PnP Inversion restated on diffusers 0.18.2 (scripts/reference/inversion_fixtures.py)")
struct InversionParityTests {
    @Test("DDPM inversion: noise maps, trajectory and the edited mel within nmse 1e-6", arguments: InversionCase.all("ddpm"))
    func ddpm(_ c: InversionCase) throws {
        let (pipeline, _, inversion) = try c.invert()
        let count = c.start ?? c.steps
        let maps = compare(try #require(inversion.noiseMaps), leading(try c.expected("noise"), count))
        let trajectory = compare(inversion.trajectory, leading(try c.expected("trajectory"), count + 1))
        #expect(maps.nmse <= 1e-6, "noise maps: \(maps)")
        #expect(trajectory.nmse <= 1e-6, "trajectory: \(trajectory)")
        let latents = try inversion.edit(c.request, pipeline: pipeline)
        let mel = compare(try pipeline.render(latents, duration: 0.5).logMel, try c.expected("mel"))
        #expect(mel.nmse <= 1e-6, "edited mel: \(mel)")
    }

    @Test("DDIM inversion and a Direct Inversion swap: trajectory and both mels within nmse 1e-6",
          arguments: InversionCase.all("ddim"))
    func ddim(_ c: InversionCase) throws {
        let (pipeline, _, inversion) = try c.invert()
        let trajectory = compare(inversion.trajectory, try c.expected("trajectory"))
        #expect(trajectory.nmse <= 1e-6, "trajectory: \(trajectory)")
        #expect(inversion.noiseMaps == nil)
        let swap = PromptEdit(alignment: .swap, schedule: ReplaceSchedule(cross: 0...(c.cross ?? 0), self: 0...(c.`self` ?? 0)))
        let (latents, controller) = try inversion.promptToPrompt([c.source, c.target], edit: swap, request: c.request,
                                                                 pipeline: pipeline)
        let expected = try c.expected("mel")
        for index in 0..<2 {
            let output = try pipeline.render(latents.sliced(axis: 0, index..<(index + 1)), duration: 0.5).logMel
            let mel = compare(output, expected.sliced(axis: 0, index..<(index + 1)).reshaped(output.shape))
            #expect(mel.nmse <= 1e-6, "prompt \(index): \(mel)")
        }
        #expect(controller.attentionStore.evaluationCount == c.steps)
    }

    @Test("the swap mapper aligns source and target tokens, also when the swapped words' token counts differ",
          arguments: InversionCase.all("ddim"))
    func mapper(_ c: InversionCase) throws {
        let tokenizer = try AuffusionPipeline(folder: try PipelineFolders.folder("standard")).text.tokenizer
        let mapper = try ReplacementMapper.mapper(from: PromptTokens(c.source, tokenizer: tokenizer),
                                                  to: PromptTokens(c.target, tokenizer: tokenizer))
        let difference = compare(mapper, try c.expected("mapper"))
        #expect(difference.maxAbs == 0, "\(difference)")
    }
}
