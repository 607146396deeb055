import Compute
import Editing
import Foundation
import Pipeline
import Testing
import TestSupport
import Toolkit
import Weights

@Suite("ClipStart and PromptEditRequest: the starts and prompt edits a front end asks for, as passes and record details")
struct EditRequestTests {
    @Test("SDEdit: the clip noised to the strength (0.5 by default); the request keeps its sampler")
    func sdedit() throws {
        var request = GenerationRequest(prompt: "rain")
        request.scheduler = .euler
        let (start, details) = try ClipStart().start(fallback: .sdedit, request: &request)
        #expect(start == .clip(strength: 0.5))
        #expect(details == .object(["from": .string("sdedit"), "strength": .number(0.5)]))
        #expect(try ClipStart(kind: .sdedit, strength: 0.3).start(fallback: .ddim, request: &request).start == .clip(strength: 0.3))
        #expect(request.stepCount == 100 && request.guidanceScale == 7.5)
    }

    @Test("an inversion takes the method's steps and edit guidance unless the caller gave them")
    func inversion() throws {
        var request = GenerationRequest(prompt: "rain")
        let (ddim, ddimDetails) = try ClipStart(sourcePrompt: "drops").start(fallback: .ddim, request: &request)
        #expect(ddim == .inversion(InversionStart(.invert(InversionSettings(method: .ddim, sourcePrompt: "drops")))))
        #expect(request.stepCount == 50 && request.guidanceScale == 7.5)
        #expect(ddimDetails == .object(["from": .string("inversion"), "method": .string("ddim"), "steps": .number(50),
                                        "start_step": .number(50), "source_guidance": .number(1)]))

        request = GenerationRequest(prompt: "rain")
        let (_, ddpmDetails) = try ClipStart(kind: .ddpm, strength: 0.25).start(fallback: .sdedit, request: &request)
        #expect(request.stepCount == 200 && request.guidanceScale == 12)
        #expect(ddpmDetails == .object(["from": .string("inversion"), "strength": .number(0.25), "method": .string("ddpm"),
                                        "steps": .number(200), "start_step": .number(50), "source_guidance": .number(3)]))

        request = GenerationRequest(prompt: "rain")
        _ = try ClipStart(kind: .ddpm, sourceGuidance: 2, steps: 20, guidance: 4).start(fallback: .sdedit, request: &request)
        #expect(request.stepCount == 20 && request.guidanceScale == 4)
    }

    @Test("a saved inversion's schedule and its method's edit guidance fill the request, its file is recorded; another step count and a file that is no inversion are refused")
    func savedInversion() throws {
        let file = try Fixtures.temporaryDirectory().appendingPathComponent("clip.inversion")
        let settings = InversionSettings(method: .ddpm, sourcePrompt: "a tone", stepCount: 8, startStep: 6)
        // Only the metadata is read here; the tensors and fingerprints are checked when the pass runs.
        try Safetensors.write(["trajectory": Tensor.zeros([7, 4, 2, 2])],
                              metadata: ["format": "auffusion-inversion", "version": "1",
                                         "settings": String(decoding: try JSONEncoder().encode(settings), as: UTF8.self),
                                         "clip": "c", "model": "m", "schedule": "s"], to: file)
        var request = GenerationRequest(prompt: "rain")
        let (start, details) = try ClipStart(inversionFile: file, strength: 0.5).start(fallback: .sdedit, request: &request)
        #expect(start == .inversion(InversionStart(.file(file), strength: 0.5)))
        #expect(details == .object(["from": .string("inversion"), "strength": .number(0.5), "file": .string(file.path),
                                    "method": .string("ddpm"), "steps": .number(8), "start_step": .number(4),   // 0.5 of 8, not the file's 6
                                    "source_guidance": .number(3)]))
        #expect(request.stepCount == 8 && request.guidanceScale == 12)

        request = GenerationRequest(prompt: "rain")
        _ = try ClipStart(inversionFile: file, steps: 8, guidance: 5).start(fallback: .ddim, request: &request)
        #expect(request.stepCount == 8 && request.guidanceScale == 5)
        #expect(throws: ClipStart.Failure.stepsDifferFromInversion(given: 9, inversion: 8)) {
            try ClipStart(inversionFile: file, steps: 9).start(fallback: .ddim, request: &request)
        }
        let notAnInversion = file.deletingLastPathComponent().appendingPathComponent("plain.safetensors")
        try Safetensors.write(["x": Tensor.zeros([1])], to: notAnInversion)
        #expect(throws: InversionError.self) { try ClipStart(inversionFile: notAnInversion).start(fallback: .ddim, request: &request) }
    }

    @Test("a sampler is refused for an inversion start, which steps with DDIM")
    func schedulerRefused() {
        var request = GenerationRequest(prompt: "rain")
        request.scheduler = .euler
        #expect(throws: ClipStart.Failure.schedulerWithInversion) { try ClipStart().start(fallback: .ddim, request: &request) }
    }

    @Test("a prompt edit's pass: the edit, the blend, the noise rule and the details; on a clip, a DDIM inversion by default")
    func promptEdit() throws {
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("standard"))
        var edit = PromptEditRequest(source: "a dog barking", alignment: .swap)
        edit.weights = [WordWeight(word: "cat", factor: 2)]
        edit.blend = ["dog", "cat"]
        edit.sharedNoise = false
        let (pass, details) = try edit.pass(request: GenerationRequest(prompt: "a cat barking"), onClip: false,
                                            tokenizer: pipeline.tokenizer)
        #expect(pass.start == .noise && pass.promptNoise == .perPrompt)
        #expect(pass.attention?.sourcePrompt == "a dog barking" && pass.attention?.blend != nil)
        #expect(pass.attention?.edit.weights.map { $0.word } == ["cat"])
        #expect(details == ["shared_noise": .bool(false), "weights": .object(["cat": .number(2)]), "cross_replace": .number(0.8),
                            "self_replace": .number(0.4), "blend": .array([.string("dog"), .string("cat")])])
        #expect(pass.attention?.edit.schedule == ReplaceSchedule(cross: 0...0.8, self: 0...0.4))

        let (onClip, clipDetails) = try edit.pass(request: GenerationRequest(prompt: "a cat barking"), onClip: true,
                                                  tokenizer: pipeline.tokenizer)
        #expect(onClip.start == .inversion(InversionStart(.invert(InversionSettings(method: .ddim, sourcePrompt: "a dog barking")))))
        #expect(onClip.request.stepCount == 50)
        #expect(onClip.attention?.edit.schedule == ReplaceSchedule(cross: 0...0.95, self: 0...1))
        #expect(clipDetails["shared_noise"] == .bool(true) && clipDetails["cross_replace"] == .number(0.95) && clipDetails["self_replace"] == .number(1))
        #expect(clipDetails["start"] != nil)

        (edit.crossReplace, edit.crossReplaceWords) = (0.5, [WordReplaceBounds(word: "cat", end: 0.3)])
        let custom = try edit.pass(request: GenerationRequest(prompt: "a cat barking"), onClip: true, tokenizer: pipeline.tokenizer).pass
        #expect(custom.attention?.edit.schedule == ReplaceSchedule(cross: 0...0.5, crossWords: ["cat": 0...0.3], self: 0...1))

        edit.blend = ["bird"]
        #expect(throws: PromptEditError.self) {
            try edit.pass(request: GenerationRequest(prompt: "a cat barking"), onClip: false, tokenizer: pipeline.tokenizer)
        }
    }
}
