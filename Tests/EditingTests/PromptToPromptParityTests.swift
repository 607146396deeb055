import Compute
import Editing
import Foundation
import Pipeline
import Testing
import TestSupport

/// The request the prompt-to-prompt and composition fixtures ran: PNDM on the standard fixture
/// folder's 64-frame canvas, 0.5 s of audio.
func fixtureRequest(_ prompt: String, steps: Int, guidance: Float) -> GenerationRequest {
    var request = GenerationRequest(prompt: prompt)
    request.stepCount = steps
    request.guidanceScale = guidance
    request.canvasFrames = 64
    request.duration = 0.5
    request.scheduler = .pndm
    return request
}

/// A case of `Tests/Fixtures/p2p/cases.json` (scripts/reference/p2p_fixtures.py).
struct PromptToPromptCase: Decodable, Sendable, CustomTestStringConvertible {
    /// `0.8` or `[0.1, 0.5]`.
    struct Bounds: Decodable, Sendable {
        let range: ClosedRange<Double>
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let end = try? container.decode(Double.self) {
                range = 0...end
            } else {
                let pair = try container.decode([Double].self)
                range = pair[0]...pair[1]
            }
        }
    }
    /// `0.8` or `{"default_": 0.8, "cat": [0.2, 0.6]}`.
    struct Cross: Decodable, Sendable {
        let schedule: [String: Bounds]
        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let single = try? container.decode(Bounds.self) {
                schedule = ["default_": single]
            } else {
                schedule = try container.decode([String: Bounds].self)
            }
        }
    }

    let name: String
    let prompts: [String]
    let edit: String
    let previous: String?
    let cross: Cross?
    let `self`: Bounds?
    let weights: [String: Float]?
    let noise_seed: UInt64
    let steps: Int
    let guidance: Float
    var testDescription: String { name }

    static func all() throws -> [PromptToPromptCase] { try Fixtures.cases(PromptToPromptCase.self, "p2p/cases.json") }

    var request: GenerationRequest { fixtureRequest(prompts[0], steps: steps, guidance: guidance) }

    var promptEdit: PromptEdit? {
        guard edit != "store" else { return nil }
        let kind = edit == "reweight" ? previous : edit
        let alignment: PromptEdit.Alignment = kind == "replace" ? .swap : kind == "refine" ? .refine : .none
        var schedule = ReplaceSchedule(cross: cross?.schedule["default_"]?.range ?? 0...1,
                                       self: self.`self`?.range ?? 0...0)
        for (word, bounds) in cross?.schedule ?? [:] where word != "default_" { schedule.crossWords[word] = bounds.range }
        let pairs = (weights ?? [:]).sorted { $0.key < $1.key }.map { (word: $0.key, factor: $0.value) }
        return PromptEdit(alignment: alignment, weights: pairs, schedule: schedule)
    }
}

@Suite("Prompt-to-prompt against the Python controllers (scripts/reference/p2p_fixtures.py)")
struct PromptToPromptParityTests {
    @Test("every prompt's mel within Tolerance.edit, from the same per-prompt noise", arguments: try PromptToPromptCase.all())
    func edit(_ c: PromptToPromptCase) throws {
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("standard"))
        let layers = pipeline.unetConfiguration.attentionLayerCount
        let controller: any AttentionRecorder = try c.promptEdit.map {
            try $0.makeController(prompts: c.prompts, tokenizer: pipeline.tokenizer, steps: c.steps, layersPerEvaluation: layers)
        } ?? AttentionStore(layersPerEvaluation: layers, promptCount: c.prompts.count)
        var noise = NoiseSource(seed: c.noise_seed)
        let result = try pipeline.promptToPrompt(c.prompts, request: c.request, noise: &noise, controller: controller)
        let expected = try Fixtures.tensor("p2p/\(c.name).mel.npy")
        for (index, output) in result.outputs.enumerated() {
            let mel = compare(output.logMel, expected.sliced(axis: 0, index..<(index + 1)).reshaped(output.logMel.shape))
            #expect(mel.isWithin(.edit), "prompt \(index): \(mel)")
        }
        #expect(controller.attentionStore.evaluationCount == c.steps + 1)
    }
}
