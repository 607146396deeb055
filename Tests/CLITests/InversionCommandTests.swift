import AudioDSP
import Foundation
import Testing
import TestSupport

/// `auffusion invert` and the inversion start of `swap`, `refine`, `reweight`, `transfer` and
/// plans, on the tiny model: one inversion serves many edits, and only of its own clip.
@Suite("auffusion invert and --inversion: inversion as the default start of prompt edits on a clip", .serialized)
struct InversionCommandTests {
    private let clip = Fixtures.url("editing/clip.wav").path
    private let source = "a dog barking", target = "a cat barking"

    private func folder() throws -> (model: URL, out: URL) {
        let model = try PipelineFolders.folder("standard")
        let out = model.deletingLastPathComponent().appendingPathComponent("inversion-commands")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        return (model, out)
    }

    private func swap(_ extra: [String], to output: URL) throws -> CommandResult {
        let model = try folder().model
        return try CommandRunner.run("auffusion", ["swap", source, target, "--model", model.path, "--from", clip, "--steps", "4",
                                                   "-o", output.path, "--quiet"] + extra)
    }

    @Test("invert writes an inversion; swap --from inverts by default and --inversion reuses the file to the same bytes, as a plan does")
    func reuse() throws {
        let (model, out) = try folder()
        let file = out.appendingPathComponent("clip.inversion")
        let invert = try CommandRunner.run("auffusion", ["invert", clip, "--model", model.path, "--prompt", source, "--steps", "4",
                                                         "-o", file.path, "--json"])
        #expect(invert.exitCode == 0, "\(invert.standardError)")
        #expect(invert.standardOutput.contains(#""inversion":"\#(file.path)""#) && invert.standardOutput.contains(#""method":"ddim""#),
                "\(invert.standardOutput)")
        let inverted = out.appendingPathComponent("inverted.wav"), reused = out.appendingPathComponent("reused.wav")
        #expect(try swap([], to: inverted).exitCode == 0)
        let again = try swap(["--inversion", file.path, "--json"], to: reused)
        #expect(again.exitCode == 0 && again.standardOutput.contains(#""file":"\#(file.path)""#), "\(again.standardError)")
        let bytes = try Data(contentsOf: inverted)
        #expect(try Data(contentsOf: reused) == bytes)
        let plan = out.appendingPathComponent("plan.json"), planned = out.appendingPathComponent("planned.wav")
        try #"""
            {"input": "\#(clip)", "passes": [{"prompt": "\#(target)", "steps": 4, "start": {"from": "inversion", "file": "clip.inversion"},
              "attention": {"source": "\#(source)", "alignment": "swap"}}]}
            """#.write(to: plan, atomically: true, encoding: .utf8)
        let edit = try CommandRunner.run("auffusion", ["edit", plan.path, "--model", model.path, "-o", planned.path, "--quiet"])
        #expect(edit.exitCode == 0, "\(edit.standardError)")
        #expect(try Data(contentsOf: planned) == bytes, "a plan from the saved inversion writes what swap does")
        try String(contentsOf: plan, encoding: .utf8).replacingOccurrences(of: #""steps": 4"#, with: #""steps": 5"#)
            .write(to: plan, atomically: true, encoding: .utf8)
        let other = try CommandRunner.run("auffusion", ["edit", plan.path, "--model", model.path, "-o", planned.path, "--quiet"])
        #expect(other.exitCode == 1 && other.standardError.contains("pass 1, steps: the saved inversion has a schedule of 4 steps, not 5"),
                "\(other.standardError)")
        let sdedit = out.appendingPathComponent("sdedit.wav")
        #expect(try swap(["--start", "sdedit"], to: sdedit).exitCode == 0)
        #expect(try Data(contentsOf: sdedit) != bytes)
    }

    @Test("an inversion of another clip is refused before any step; misplaced start options are usage errors with the reason")
    func refusals() throws {
        let (model, out) = try folder()
        let quieter = out.appendingPathComponent("quieter.wav"), file = out.appendingPathComponent("quieter.inversion")
        var audio = try AudioFile.read(URL(fileURLWithPath: clip))
        audio.channels = audio.channels.map { $0.map { $0 * 0.5 } }
        try AudioFile.write(audio, to: quieter)
        let invert = try CommandRunner.run("auffusion", ["invert", quieter.path, "--model", model.path, "--prompt", source,
                                                         "--steps", "4", "-o", file.path, "--quiet"])
        #expect(invert.exitCode == 0, "\(invert.standardError)")
        let output = out.appendingPathComponent("refused.wav")
        let other = try swap(["--inversion", file.path], to: output)
        #expect(other.exitCode == 1 && other.standardError.contains("was made from another clip"), "\(other.standardError)")
        #expect(!FileManager.default.fileExists(atPath: output.path))
        for (extra, code, reason) in [(["--inversion", file.path, "--start", "ddim"], 2, "--inversion's file has its own method"),
                                      (["--start", "sdedit", "--source-guidance", "2"], 2, "--source-guidance applies when the edit inverts"),
                                      (["--scheduler", "ddim"], 2, "--scheduler does not apply to an inversion start"),
                                      (["--inversion", file.path, "-o", file.path], 1, "")] as [([String], Int32, String)] {
            let result = try swap(extra, to: output)
            #expect(result.exitCode == code && result.standardError.contains("error: \(reason)"), "\(extra): \(result.standardError)")
        }
        let orphan = try CommandRunner.run("auffusion", ["swap", source, target, "--model", model.path, "--start", "ddpm",
                                                         "-o", output.path])
        #expect(orphan.exitCode == 2 && orphan.standardError.contains("--start, --inversion and --source-guidance need --from"), "\(orphan.standardError)")
    }

    @Test("transfer --start ddpm is ZETA's text-based edit: it runs from the inversion and differs from the SDEdit restyle; from the saved inversion it writes the same bytes and record")
    func transferFromInversion() throws {
        let (model, out) = try folder()
        func transfer(_ extra: [String], _ name: String) throws -> (CommandResult, Data?) {
            let output = out.appendingPathComponent(name)
            let result = try CommandRunner.run("auffusion", ["transfer", clip, "a cat meowing", "--model", model.path, "--steps", "6",
                                                             "-o", output.path, "--json"] + extra)
            return (result, result.exitCode == 0 ? try Data(contentsOf: output) : nil)
        }
        let (zeta, edited) = try transfer(["--start", "ddpm", "--source-prompt", source], "zeta.wav")
        #expect(zeta.exitCode == 0, "\(zeta.standardError)")
        #expect(zeta.standardOutput.contains(#""method":"ddpm""#) && zeta.standardOutput.contains(#""start_step":3"#)
                && zeta.standardOutput.contains(#""guidance":12"#), "\(zeta.standardOutput)")
        let (sdedit, restyled) = try transfer([], "restyle.wav")
        #expect(sdedit.exitCode == 0 && sdedit.standardOutput.contains(#""from":"sdedit""#), "\(sdedit.standardOutput)")
        #expect(edited != nil && restyled != nil && edited != restyled)
        // The saved inversion's schedule and its method's edit guidance, not the command's defaults
        // (100 steps, 7.5): the same edit as inverting on the spot.
        let file = out.appendingPathComponent("zeta.inversion")
        let invert = try CommandRunner.run("auffusion", ["invert", clip, "--model", model.path, "--method", "ddpm", "--prompt", source,
                                                         "--steps", "6", "-o", file.path, "--quiet"])
        #expect(invert.exitCode == 0, "\(invert.standardError)")
        let saved = out.appendingPathComponent("saved.wav")
        let reused = try CommandRunner.run("auffusion", ["transfer", clip, "a cat meowing", "--model", model.path, "--inversion", file.path,
                                                         "-o", saved.path, "--json"])
        #expect(reused.exitCode == 0 && reused.standardOutput.contains(#""steps":6"#) && reused.standardOutput.contains(#""guidance":12"#)
                && reused.standardOutput.contains(#""method":"ddpm""#), "\(reused.standardOutput) \(reused.standardError)")
        #expect(try Data(contentsOf: saved) == edited)
        let mismatched = try CommandRunner.run("auffusion", ["transfer", clip, "a cat meowing", "--model", model.path, "--inversion", file.path,
                                                             "--steps", "5", "-o", saved.path])
        #expect(mismatched.exitCode == 1 && mismatched.standardError.contains("--steps 5 does not apply to --inversion"),
                "\(mismatched.standardError)")
    }
}
