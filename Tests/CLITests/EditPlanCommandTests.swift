import AudioDSP
import Compute
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

    @Test("a two-pass plan (restyle with a word swap, then fill a range) writes audio of the clip's length, and the log-mel with --save-mel")
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
        let mel = plan.deletingLastPathComponent().appendingPathComponent("planned-mel.npy")
        let result = try CommandRunner.run("auffusion", ["edit", plan.path, "--model", folder.path, "--seed", "5", "--json", "--save-mel", mel.path])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let audio = try AudioFile.read(plan.deletingLastPathComponent().appendingPathComponent("planned.wav"))
        #expect(audio.frameCount == 8000)
        #expect(try NumPyFile.read(mel).shape[0] == 16)
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

    @Test("hostile plan files (issue #22) end in one error line and exit 1 within seconds: a key twice, JSON5, deep nesting, a FIFO, a huge file, a huge word")
    func hostilePlans() throws {
        let folder = try Fixtures.temporaryDirectory()
        let pass = #"{"prompt": "a cat", "start": {"from": "noise"}, "steps": 1}"#
        let word = String(repeating: "a", count: 100_000)
        let cases: [(String, String?, String)] = [
            ("twice.json", #"{"output": "a.wav", "passes": [\#(pass)], "output": "b.wav"}"#, #"the key "output" appears twice in one object"#),
            ("json5.json", #"{"passes": [\#(pass)], // a comment\#n}"#, "not plain JSON at byte "),
            ("deep.json", String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), "nested too deeply (more than 64 levels)"),
            ("fifo.json", nil, "fifo.json: it is a FIFO (named pipe), not a regular file"),
            ("huge.json", #"{"passes": [\#(pass)], "output": ""# + String(repeating: "x", count: 2_000_000) + #""}"#,
             "huge.json: it is 2000087 bytes; the limit for this kind of file is 1048576 bytes"),
            ("word.json", #"{"passes": [{"prompt": "\#(word)", "start": {"from": "noise"}, "attention": {"source": "a", "alignment": "none", "blend": ["a"]}}]}"#,
             "pass 1, prompt: the prompt has a word of 100000 characters"),
        ]
        for (name, text, fragment) in cases {
            let plan = folder.appendingPathComponent(name)
            if let text { try Data(text.utf8).write(to: plan) } else { #expect(mkfifo(plan.path, 0o600) == 0) }
            let started = Date()
            let result = try CommandRunner.run("auffusion", ["edit", plan.path, "-o", folder.appendingPathComponent("out.wav").path, "--quiet"])
            #expect(Date().timeIntervalSince(started) < 10, "\(name)")
            #expect(result.exitCode == 1, "\(name)")
            let lines = result.standardError.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("error: ") && lines[0].contains(fragment), "\(result.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("out.wav").path))
    }
}
