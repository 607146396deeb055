import AudioDSP
import Foundation
import Testing
import TestSupport

@Suite("auffusion edit PLAN.json")
struct EditPlanCommandTests {
    private func write(_ plan: String, named name: String) throws -> (URL, URL) {
        let folder = try PipelineFolders.folder("standard")
        let url = folder.deletingLastPathComponent().appendingPathComponent(name)
        try Data(plan.utf8).write(to: url)
        return (folder, url)
    }

    @Test("a two-pass plan (restyle with a word swap, then fill a range) writes audio of the clip's length")
    func twoPasses() throws {
        let (folder, plan) = try write("""
            {"input": "\(Fixtures.url("editing/clip.wav").path)", "output": "planned.wav",
             "passes": [
               {"prompt": "a cat barking", "start": {"from": "clip", "strength": 0.6}, "steps": 4,
                "attention": {"source": "a dog barking", "alignment": "swap", "cross_replace": 0.8,
                              "cross_replace_words": {"cat": [0.1, 0.5], "barking": 1}}},
               {"prompt": "a siren", "start": {"from": "previous", "strength": 1}, "steps": 3, "scheduler": "ddim",
                "mask": {"ranges": [[0.1, 0.3]], "band": [0, 4000]}}
             ]}
            """, named: "plan.json")
        let result = try CommandRunner.run("auffusion", ["edit", plan.path, "--model", folder.path, "--seed", "5", "--json"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let audio = try AudioFile.read(plan.deletingLastPathComponent().appendingPathComponent("planned.wav"))
        #expect(audio.frameCount == 8000)
        #expect(result.standardOutput.contains("\"passes\":2"), "\(result.standardOutput)")
    }

    @Test("a pass's cross_replace_words reach the schedule: the default's bound leaves the audio bit-identical, another bound changes it")
    func perWordBounds() throws {
        func run(_ words: String, named name: String) throws -> [Float] {
            let (folder, plan) = try write("""
                {"output": "\(name).wav", "passes": [{"prompt": "a cat barking", "start": {"from": "noise"}, "steps": 3,
                  "attention": {"source": "a dog barking", "alignment": "swap"\(words)}}]}
                """, named: "\(name).json")
            let result = try CommandRunner.run("auffusion", ["edit", plan.path, "--model", folder.path, "--seed", "1", "--quiet"])
            #expect(result.exitCode == 0, "\(result.standardError)")
            return try AudioFile.read(plan.deletingLastPathComponent().appendingPathComponent("\(name).wav")).channels[0]
        }
        let plain = try run("", named: "plan-plain")
        #expect(try run(#", "cross_replace_words": {"cat": 0.8}"#, named: "plan-same") == plain)
        #expect(try run(#", "cross_replace_words": {"cat": [0.4, 1], "barking": 0}"#, named: "plan-words") != plain)
    }

    @Test("bad plans end with one error line naming the pass and the field")
    func badPlans() throws {
        let clip = Fixtures.url("editing/clip.wav").path
        let cases: [(String, String)] = [
            (#"{"passes": [{"prompt": "a cat", "start": {"from": "clip", "strength": "half"}}]}"#, "pass 1, start.strength: expected"),
            (#"{"passes": [{"prompt": "a cat", "start": {"from": "noise"}}, {"start": {"from": "previous"}}]}"#, "pass 2, prompt: missing"),
            (#"{"input": "\#(clip)", "passes": [{"prompt": "a cat", "start": {"from": "clip"}}, {"prompt": "a cat", "start": {"from": "prev"}}]}"#,
             "pass 2, start.from: \"prev\" is not one of noise, clip, previous"),
            (#"{"input": "\#(clip)", "passes": [{"prompt": "a cat", "start": {"from": "clip"}, "mask": {"ranges": [[0.6, 0.9]]}}]}"#,
             "pass 1, mask: "),
            (#"{"passes": [{"prompt": "a cat", "start": {"from": "clip"}}]}"#, "pass 1, start: a clip start needs an input clip"),
            (#"{"passes": [{"prompt": "a cat", "start": {"from": "noise"}, "attention": {"source": "a dog", "alignment": "swap", "cross_replace_words": {"cat": [0.6, 0.2]}}}]}"#,
             "pass 1, attention.cross_replace_words.cat: fractions must lie in [0, 1] with the start before the end, got 0.6-0.2"),
            (#"{"passes": [{"prompt": "a cat", "start": {"from": "noise"}, "attention": {"source": "a dog", "alignment": "swap", "cross_replace_words": {"cat": "0.4"}}}]}"#,
             "pass 1, attention.cross_replace_words.cat: give END or [START, END]"),
        ]
        for (index, (json, fragment)) in cases.enumerated() {
            let (folder, plan) = try write(json, named: "bad\(index).json")
            let out = plan.deletingLastPathComponent().appendingPathComponent("bad.wav").path
            let result = try CommandRunner.run("auffusion", ["edit", plan.path, "--model", folder.path, "-o", out, "--quiet"])
            #expect(result.exitCode == 1, "\(json)")
            #expect(result.standardError.split(separator: "\n").count == 1 && result.standardError.contains(fragment),
                    "\(result.standardError)")
        }
    }
}
