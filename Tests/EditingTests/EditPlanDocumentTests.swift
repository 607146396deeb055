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

    @Test("bad documents are refused naming the place: unknown keys at every level (with the known ones); a key twice, JSON5, NaN, a huge number, deep nesting")
    func refused() throws {
        let pass = #"{"prompt": "a", "start": {"from": "noise"}}"#
        let cases: [(String, String)] = [
            (#"{"passes": [], "ouput": "x.wav"}"#, #"the plan: unknown key "ouput"; known keys: crossfade_ms, fill_level, input, output, passes, raw"#),
            (#"{"passes": [{"prompt": "a", "start": {"from": "noise"}, "guidence": 3}]}"#, #"pass 1: unknown key "guidence""#),
            (#"{"passes": [{"prompt": "a", "start": {"from": "noise"}, "attention": {"source": "a", "alignment": "none", "weight": {}}}]}"#,
             #"pass 1, attention: unknown key "weight"; known keys: alignment, blend, blend_resolution"#),
            ("[1, 2", "not plain JSON: the text ends early"),
            (#"{"output": "a.wav", "passes": [], "output": "../b.wav"}"#, #"not plain JSON at byte 34: the key "output" appears twice in one object"#),
            (#"{"passes": [\#(pass),]}"#, "not plain JSON at byte 56: expected a value"),
            (#"{passes: []}"#, "not plain JSON at byte 1: expected a quoted key"),
            (#"{"passes": [{"prompt": "a", "start": {"from": "clip", "strength": NaN}}]}"#, "not plain JSON at byte 66: NaN is not a JSON number"),
            (#"{"passes": [{"prompt": "a", "start": {"from": "clip", "strength": -1e999}}]}"#, "not plain JSON at byte 66: the number -1e999 is out of range"),
            (String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), "not plain JSON at byte 64: nested too deeply"),
        ]
        for (text, message) in cases {
            #expect {
                _ = try EditPlanDocument(json: Data(text.utf8))
            } throws: { error in
                "\(error)".hasPrefix(message)
            }
        }
    }

    @Test("a plan file is read only when it is a regular file within the limit: a FIFO is refused, never waited on")
    func planFiles() throws {
        let folder = try Fixtures.temporaryDirectory()
        let fifo = folder.appendingPathComponent("plan.json")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        #expect(throws: EditPlanError.invalidDocument("it is a FIFO (named pipe), not a regular file")) { try EditPlanDocument(contentsOf: fifo) }
        let big = folder.appendingPathComponent("big.json")
        try Data(repeating: 0x20, count: EditPlanDocument.fileLimit + 1).write(to: big)
        #expect(throws: EditPlanError.invalidDocument("it is 1048577 bytes; the limit for this kind of file is 1048576 bytes")) {
            try EditPlanDocument(contentsOf: big)
        }
        let plan = folder.appendingPathComponent("fine.json")
        try Data(Self.text.utf8).write(to: plan)
        #expect(try EditPlanDocument(contentsOf: plan) == EditPlanDocument(json: Data(Self.text.utf8)))
    }

    @Test("a prompt, negative prompt or attention source past the tokenizer's limits is refused before anything tokenizes it")
    func boundedPrompts() throws {
        let pipeline = try AttentionControllerTests.pipeline()
        let word = String(repeating: "a", count: 100_000)
        let cases: [(String, String)] = [
            (#"{"prompt": "\#(word)", "start": {"from": "noise"}, "attention": {"source": "a dog", "alignment": "none", "blend": ["a"]}}"#, "pass 1, prompt: the prompt has a word of 100000 characters"),
            (#"{"prompt": "a dog", "start": {"from": "noise"}, "negative": "\#(word)"}"#, "pass 1, negative: the prompt has a word"),
            (#"{"prompt": "a dog", "start": {"from": "noise"}, "attention": {"source": "\#(word)", "alignment": "none", "blend": ["dog"]}}"#,
             "pass 1, attention.source: the prompt has a word"),
            (#"{"prompt": "a dog", "start": {"from": "inversion", "source_prompt": "\#(word)"}}"#, "pass 1, start.source_prompt: the prompt has a word"),
        ]
        for (pass, message) in cases {
            let started = Date()
            #expect {
                _ = try EditPlanDocument(json: Data(#"{"passes": [\#(pass)]}"#.utf8)).plan(clipDuration: nil, pipeline: pipeline)
            } throws: { error in
                "\(error)".hasPrefix(message)
            }
            #expect(Date().timeIntervalSince(started) < 10)   // about 0.1 s; a loaded machine may be slower
        }
    }

    @Test("a plan's steps near Int.max with an inversion strength give a start step the settings refuse, not a trap")
    func hugeInversionSteps() throws {
        let settings = InversionSettings(method: .ddim, stepCount: .max, strength: 1)
        #expect(settings.startStep == .max)
        #expect(throws: InversionError.self) { try settings.validate(trainingSteps: 1000) }
        #expect(InversionSettings(method: .ddim, stepCount: 50, strength: 0.5).startStep == 25)
    }

    @Test("the finishing keys reach the plan (fill_level, crossfade_ms, raw); choices made on top win, choices left out keep the document's; a bad level or crossfade is refused")
    func finishingKeys() throws {
        let (pipeline, clip) = try fixtureClip()
        func plan(_ keys: String) throws -> EditPlan {
            let text = Self.text.replacingOccurrences(of: #""output": "out.wav","#, with: #""output": "out.wav", \#(keys),"#)
            return try EditPlanDocument(json: Data(text.utf8)).plan(clipDuration: clip.duration, pipeline: pipeline)
        }
        let plain = try plan(#""raw": false"#)
        #expect(plain.fillLevel == .context && plain.crossfadeSeconds == 0.020 && !plain.raw)
        let chosen = try plan(#""fill_level": "raw", "crossfade_ms": 5, "raw": true"#)
        #expect(chosen.fillLevel == .raw && chosen.crossfadeSeconds == 0.005 && chosen.raw)
        let flags = FinishingChoices(crossfadeSeconds: 0.040).applied(to: chosen)
        #expect(flags.crossfadeSeconds == 0.040 && flags.fillLevel == .raw && flags.raw)
        for (keys, message) in [(#""fill_level": "loud""#, #"fill_level: "loud" is not one of context, raw"#),
                                (#""crossfade_ms": -1"#, "crossfade_ms: must be a non-negative number of milliseconds, got -1.0")] {
            #expect { try plan(keys) } throws: { "\($0)".contains(message) }
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
        var rendered = 0
        _ = try plan.run(clip: clip, pipeline: pipeline, noise: &noise) { progress in
            if progress.rendering == nil { seen.append(progress) } else { rendered += 1 }
            return true
        }
        #expect(rendered > 0, "the rendering after the last step is reported too")
        #expect(seen.count == counts.reduce(0, +) && seen.map(\.stepsDone) == Array(1...seen.count))
        #expect(Set(seen.map(\.totalSteps)) == [seen.count] && seen.last?.pass == 2 && seen.first?.pass == 1)
    }

    @Test("words match without case and surrounding punctuation when no word matches exactly")
    func looseWords() throws {
        let pipeline = try AttentionControllerTests.pipeline()
        let tokens = PromptTokens("a beep, and white Noise.", tokenizer: pipeline.tokenizer)
        #expect(tokens.positions(of: "noise") == tokens.positions(of: "Noise.") && !tokens.positions(of: "noise").isEmpty)
        #expect(tokens.positions(of: "beep") == tokens.positions(of: "beep,"))
        #expect(tokens.positions(of: "noi").isEmpty && tokens.positions(of: ".").isEmpty)
    }
}
