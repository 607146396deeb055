import Compute
import Editing
import Foundation
import Models
import Pipeline
import Testing
import TestSupport

/// The plan schema in the library: what `auffusion edit` reads and a front end writes.
@Suite("Edit plans as documents, checked whole before they run")
struct EditPlanDocumentTests {
    private static let text = #"""
    {"input": "clip.wav", "output": "out.wav", "passes": [
      {"prompt": "a dog barking", "start": {"from": "clip", "strength": 0.5}, "steps": 4, "scheduler": "dpmpp"},
      {"prompt": "a cat barking", "start": {"from": "previous", "strength": 0.6}, "steps": 4, "mask": {"ranges": [[0.1, 0.3]], "band": [0, 4000]},
       "attention": {"source": "a dog barking", "alignment": "swap", "cross_replace_words": {"cat": [0.1, 0.5]}, "blend": ["cat"]}}
    ]}
    """#

    @Test("a document decodes, encodes and decodes to the same value")
    func roundTrip() throws {
        let document = try EditPlanDocument(json: Data(Self.text.utf8))
        #expect(document.passes.count == 2 && document.passes[1].attention?.crossReplaceWords?["cat"] == .init(start: 0.1, end: 0.5))
        let again = try EditPlanDocument(json: try JSONEncoder().encode(document))
        #expect(again == document)
    }

    @Test("unknown keys are errors that list the known ones, at every level")
    func unknownKeys() throws {
        let cases: [(String, String)] = [
            (#"{"passes": [], "ouput": "x.wav"}"#, #"the plan: unknown key "ouput"; known keys: input, output, passes"#),
            (#"{"passes": [{"prompt": "a", "start": {"from": "noise"}, "guidence": 3}]}"#, #"pass 1: unknown key "guidence""#),
            (#"{"passes": [{"prompt": "a", "start": {"from": "noise"}, "attention": {"source": "a", "alignment": "none", "weight": {}}}]}"#,
             #"pass 1, attention: unknown key "weight"; known keys: alignment, blend, blend_resolution"#),
            ("[1, 2", "not valid JSON"),
        ]
        for (text, message) in cases {
            #expect {
                _ = try EditPlanDocument(json: Data(text.utf8))
            } throws: { error in
                "\(error)".hasPrefix(message)
            }
        }
    }

    @Test("a plan is checked whole before any pass runs: a bad word in pass 2 stops it before pass 1's first step")
    func wholePlanFirst() throws {
        let (pipeline, clip) = try fixtureClip()
        let document = try EditPlanDocument(json: Data(Self.text.replacingOccurrences(of: #""blend": ["cat"]"#,
                                                                                       with: #""blend": ["cat"], "weights": {"rain": 2}"#).utf8))
        let plan = try document.plan(clipDuration: clip.duration, pipeline: pipeline)
        var noise = NoiseSource(seed: 1)
        var steps = 0
        #expect {
            _ = try plan.run(clip: clip, pipeline: pipeline, noise: &noise) { _ in
                steps += 1
                return true
            }
        } throws: { error in
            "\(error)".hasPrefix(#"pass 2: "rain" is not a word of "a cat barking""#)
        }
        #expect(steps == 0)
    }

    @Test("plan progress counts the steps of every pass, so the time left includes the passes to come")
    func progressAcrossPasses() throws {
        let (pipeline, clip) = try fixtureClip()
        let plan = try EditPlanDocument(json: Data(Self.text.utf8)).plan(clipDuration: clip.duration, pipeline: pipeline)
        let counts = try plan.validate(clip: clip, pipeline: pipeline)
        var seen: [EditProgress] = []
        var noise = NoiseSource(seed: 1)
        _ = try plan.run(clip: clip, pipeline: pipeline, noise: &noise) { progress in
            seen.append(progress)
            return true
        }
        #expect(seen.count == counts.reduce(0, +) && seen.map(\.stepsDone) == Array(1...seen.count))
        #expect(Set(seen.map(\.totalSteps)) == [seen.count] && seen.last?.pass == 2 && seen.first?.pass == 1)
    }

    @Test("words match without case and surrounding punctuation when no word matches exactly")
    func looseWords() throws {
        let pipeline = try AttentionControllerTests.pipeline()
        let tokens = PromptTokens("a beep, and white Noise.", tokenizer: pipeline.text.tokenizer)
        #expect(tokens.positions(of: "noise") == tokens.positions(of: "Noise.") && !tokens.positions(of: "noise").isEmpty)
        #expect(tokens.positions(of: "beep") == tokens.positions(of: "beep,"))
        #expect(tokens.positions(of: "noi").isEmpty && tokens.positions(of: ".").isEmpty)
    }
}
