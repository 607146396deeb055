import Compute
import Editing
import Foundation
import Pipeline
import Testing
import TestSupport

/// An inversion as the start of an ``EditPass``, on the tiny fixture model: a plan from an
/// inversion runs exactly what ``Inversion``'s own edits run (whose numbers the parity tests hold
/// to the Python restatements), reuses a saved inversion only of its own clip, and keeps the clip
/// outside a mask.
@Suite("Inversion as the start of an edit pass")
struct InversionStartTests {
    static let source = "a dog barking in the rain", target = "a cat barking in the rain"

    static func request(_ prompt: String = target, guidance: Float = 7.5) -> GenerationRequest {
        var request = GenerationRequest(prompt: prompt)
        request.guidanceScale = guidance
        return request
    }

    static func invert(_ latents: Tensor, _ settings: InversionSettings, pipeline: AuffusionPipeline) throws -> Inversion {
        var noise = NoiseSource(seed: 5)
        return try Inversion(inverting: latents, settings: settings, pipeline: pipeline, noise: &noise)
    }

    static func swap(from start: InversionStart) -> EditPass {
        EditPass.promptEdit(.init(sourcePrompt: source, edit: PromptEdit(alignment: .swap)), request: request(),
                            start: .inversion(start))
    }

    @Test("a swap from a DDIM inversion equals Inversion.promptToPrompt bit for bit, guided away from the source prompt unless the pass gives its own negative or says not to; its source row ends on the clip's latents")
    func ddimSwap() throws {
        let (pipeline, clip) = try fixtureClip()
        let settings = InversionSettings(method: .ddim, sourcePrompt: Self.source, stepCount: 10)
        let inversion = try Self.invert(clip.latents, settings, pipeline: pipeline)
        func direct(negative: String?) throws -> Tensor {
            var request = Self.request()
            request.negativePrompt = negative
            return try inversion.promptToPrompt([Self.source, Self.target], edit: PromptEdit(alignment: .swap), request: request,
                                                pipeline: pipeline).latents.sliced(axis: 0, 1..<2)
        }
        func planned(_ change: (inout EditPass) -> Void) throws -> Tensor {
            var pass = Self.swap(from: InversionStart(.invert(settings)))
            change(&pass)
            var noise = NoiseSource(seed: 5)
            return try EditPlan([pass]).run(clip: clip, pipeline: pipeline, noise: &noise).output.latents
        }
        var noise = NoiseSource(seed: 5)
        var progress: [EditProgress] = []
        let byDefault = try EditPlan([Self.swap(from: InversionStart(.invert(settings)))])
            .run(clip: clip, pipeline: pipeline, noise: &noise, renderSource: true) { if $0.rendering == nil { progress.append($0) }; return true }
        #expect(byDefault.output.latents == (try direct(negative: Self.source)))
        let plain = try planned { $0.attention?.sourceAsNegative = false }
        #expect(plain == (try direct(negative: nil)) && plain != byDefault.output.latents)
        #expect(try planned { $0.request.negativePrompt = "rain" } == (try direct(negative: "rain")))
        #expect(byDefault.source?.latents == clip.latents)
        #expect(progress.map(\.stepsDone) == Array(1...20) && progress.allSatisfy { $0.totalSteps == 20 },
                "10 inverting steps, then 10 editing steps")
    }

    @Test("ZETA's text-based edit from a DDPM inversion equals Inversion.edit, at every strength")
    func ddpmEdit() throws {
        let (pipeline, clip) = try fixtureClip()
        let settings = InversionSettings(method: .ddpm, sourcePrompt: "", stepCount: 10, startStep: 8)
        let inversion = try Self.invert(clip.latents, settings, pipeline: pipeline)
        for (strength, steps) in [(nil, 8), (0.5, 5)] as [(Double?, Int)] {
            let direct = try inversion.edit(Self.request(guidance: 12), startStep: steps, pipeline: pipeline)
            var noise = NoiseSource(seed: 5)
            let pass = EditPass(start: .inversion(InversionStart(.invert(settings), strength: strength)), request: Self.request(guidance: 12))
            let planned = try EditPlan([pass]).run(clip: clip, pipeline: pipeline, noise: &noise).output.latents
            #expect(planned == direct, "strength \(strength.map { "\($0)" } ?? "default")")
        }
    }

    @Test("a saved inversion gives the same edit as inverting; one made from another clip is refused by name before any step")
    func savedInversion() throws {
        let (pipeline, clip) = try fixtureClip()
        let settings = InversionSettings(method: .ddim, sourcePrompt: Self.source, stepCount: 10)
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("inversion-start-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let own = folder.appendingPathComponent("own.inversion"), other = folder.appendingPathComponent("other.inversion")
        try Self.invert(clip.latents, settings, pipeline: pipeline).write(to: own, pipeline: pipeline)
        try Self.invert(clip.latents * 0.5, settings, pipeline: pipeline).write(to: other, pipeline: pipeline)
        var noise = NoiseSource(seed: 5), again = NoiseSource(seed: 5)
        let inverted = try EditPlan([Self.swap(from: InversionStart(.invert(settings)))]).run(clip: clip, pipeline: pipeline, noise: &noise)
        let read = try EditPlan([Self.swap(from: InversionStart(.file(own)))]).run(clip: clip, pipeline: pipeline, noise: &again)
        #expect(read.output.latents == inverted.output.latents)
        var steps = 0
        #expect {
            _ = try EditPlan([Self.swap(from: InversionStart(.file(other)))]).run(clip: clip, pipeline: pipeline, noise: &noise) { _ in
                steps += 1
                return true
            }
        } throws: { error in "\(error)".contains("was made from another clip") }
        #expect(steps == 0)
    }

    @Test("with a mask, the latents wholly outside it are the clip's exactly and inside they change; a local edit of a DDPM inversion")
    func masked() throws {
        let (pipeline, clip) = try fixtureClip()
        let settings = InversionSettings(method: .ddpm, sourcePrompt: "", stepCount: 10, startStep: 8)
        let mask = try EditMask(ranges: [0.1..<0.3], clipDuration: clip.duration)
        var noise = NoiseSource(seed: 5)
        var plan = EditPlan([EditPass(start: .inversion(InversionStart(.invert(settings))), constraint: .mask(mask),
                                      request: Self.request(guidance: 12))])
        plan.raw = true
        let latents = try plan.run(clip: clip, pipeline: pipeline, noise: &noise).output.latents
        let inside = mask.latentMask(shape: clip.latents.shape, factor: pipeline.downsamplingFactor, parameters: pipeline.melParameters)
        let outside = inside.scalars.indices.filter { inside.scalars[$0] == 0 }
        #expect(!outside.isEmpty && outside.allSatisfy { latents.scalars[$0] == clip.latents.scalars[$0] })
        #expect(compare(latents * inside, clip.latents * inside).nmse > 1e-4)
    }

    @Test("plan documents: an inversion start takes its method, source prompt and N from the pass; wrong keys are named")
    func document() throws {
        let (pipeline, clip) = try fixtureClip()
        func plan(_ start: String, attention: Bool = true) throws -> EditPlan {
            let edit = attention ? #", "attention": {"source": "\#(Self.source)", "alignment": "swap"}"# : ""
            let json = #"{"passes": [{"prompt": "\#(Self.target)", "steps": 12, "start": \#(start)\#(edit)}]}"#
            return try EditPlanDocument(json: Data(json.utf8)).plan(clipDuration: clip.duration, folder: URL(fileURLWithPath: "/plans"),
                                                                    pipeline: pipeline)
        }
        let ddim = InversionSettings(method: .ddim, sourcePrompt: Self.source, stepCount: 12, strength: 0.5)
        #expect(try plan(#"{"from": "inversion", "strength": 0.5}"#).passes[0].start == .inversion(InversionStart(.invert(ddim))))
        let ddpm = InversionSettings(method: .ddpm, sourcePrompt: "", stepCount: 12, guidance: 2)
        #expect(try plan(#"{"from": "inversion", "source_guidance": 2}"#, attention: false).passes[0].start
                == .inversion(InversionStart(.invert(ddpm))))
        let saved = try plan(#"{"from": "inversion", "file": "clip.inversion", "strength": 0.25}"#).passes[0].start
        #expect(saved == .inversion(InversionStart(.file(URL(fileURLWithPath: "/plans/clip.inversion")), strength: 0.25)), "\(saved)")
        let steering = #"{"passes": [{"prompt": "\#(Self.target)", "start": {"from": "FROM"}, "attention": {"source": "\#(Self.source)", "alignment": "swap", "source_negative": false}}]}"#
        func steered(from: String) throws -> EditPlan {
            try EditPlanDocument(json: Data(steering.replacingOccurrences(of: "FROM", with: from).utf8))
                .plan(clipDuration: clip.duration, folder: nil, pipeline: pipeline)
        }
        #expect(try plan(#"{"from": "inversion"}"#).passes[0].attention?.sourceAsNegative == true)
        #expect(try steered(from: "inversion").passes[0].attention?.sourceAsNegative == false)
        #expect { try steered(from: "clip") } throws: { "\($0)".contains("attention.source_negative: applies to an inversion start only") }
        for (start, message) in [(#"{"from": "inversion", "method": "ddjm"}"#, "start.method"),
                                 (#"{"from": "inversion", "file": "a.inversion", "method": "ddim"}"#, "start.file"),
                                 (#"{"from": "clip", "method": "ddim"}"#, "start.method: applies to an inversion start only"),
                                 (#"{"from": "inversion", "strength": 0}"#, "start.strength")] {
            #expect { try plan(start) } throws: { "\($0)".contains(message) }
        }
    }
}
