import AudioDSP
import Foundation
import Testing
import TestSupport

@Suite("auffusion swap and reweight: on an existing clip (--from), per-word replacement bounds")
struct PromptEditCommandTests {
    private let clip = Fixtures.url("editing/clip.wav").path

    @Test("swap --from writes both prompts' audio at the clip's length")
    func swapFromClip() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent()
        let result = try CommandRunner.run("auffusion", [
            "swap", "a dog barking", "a cat barking", "--model", folder.path, "--from", clip, "--strength", "0.6",
            "-o", out.appendingPathComponent("swapped.wav").path, "--source-output", out.appendingPathComponent("source.wav").path,
            "--steps", "4", "--json",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        for name in ["swapped.wav", "source.wav"] {
            #expect(try AudioFile.read(out.appendingPathComponent(name)).frameCount == 8000)
        }
        #expect(result.standardOutput.contains("\"strength\":0.6") && result.standardOutput.contains("\"shared_noise\":true"),
                "\(result.standardOutput)")
    }

    @Test("--source-negative and --no-source-negative apply to an edit from an inversion only")
    func sourceNegativeNeedsInversion() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent().appendingPathComponent("steered.wav").path
        let base = ["swap", "a dog barking", "a cat barking", "--model", folder.path, "-o", out, "--quiet"]
        for (extra, flag) in [(["--no-source-negative"], "--no-source-negative"),
                              (["--from", clip, "--start", "sdedit", "--source-negative"], "--source-negative")] {
            let result = try CommandRunner.run("auffusion", base + extra)
            #expect(result.exitCode == 2 && result.standardError.contains("error: \(flag) applies to an edit from an inversion"),
                    "\(result.standardError)")
        }
    }

    @Test("reweight --from runs; --strength without --from or outside [0, 1] is a usage error")
    func reweightFromClip() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent().appendingPathComponent("reweighted.wav").path
        let base = ["reweight", "a dog barking", "--weight", "dog=2", "--model", folder.path, "-o", out, "--steps", "3", "--quiet"]
        let result = try CommandRunner.run("auffusion", base + ["--from", clip])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(try AudioFile.read(URL(fileURLWithPath: out)).frameCount == 8000)
        let orphan = try CommandRunner.run("auffusion", base + ["--strength", "0.5"])
        #expect(orphan.exitCode == 2 && orphan.standardError.contains("--strength needs --from"), "\(orphan.standardError)")
        let range = try CommandRunner.run("auffusion", base + ["--from", clip, "--strength", "1.5"])
        #expect(range.exitCode == 2 && range.standardError.contains("between 0 and 1"), "\(range.standardError)")
    }

    @Test("swap --from with --blend and --maps: the blended edit and the edited prompt's maps")
    func swapFromClipWithBlendAndMaps() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent()
        let result = try CommandRunner.run("auffusion", [
            "swap", "a dog barking", "a cat barking", "--model", folder.path, "--from", clip, "--blend", "dog", "cat", "--blend-resolution", "4x256",
            "--maps", out.appendingPathComponent("from-maps").path, "--maps-resolution", "4x256",
            "-o", out.appendingPathComponent("from-cat.wav").path, "--steps", "4", "--quiet",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(try AudioFile.read(out.appendingPathComponent("from-cat.wav")).frameCount == 8000)
        for name in ["maps.npy", "00-a.png", "01-cat.png", "02-barking.png"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent("from-maps/\(name)").path), "\(name)")
        }
    }

    /// `auffusion swap "a dog barking" "a cat barking"` from seed 2 on the tiny model, 3 steps, 0.5 s, into `name`.
    private func swap(_ extra: [String], to name: String) throws -> (result: CommandResult, samples: [Float]?) {
        let folder = try PipelineFolders.folder("standard")
        let output = folder.deletingLastPathComponent().appendingPathComponent(name)
        let result = try CommandRunner.run("auffusion", ["swap", "a dog barking", "a cat barking", "--model", folder.path, "--seed", "2",
                                                         "--steps", "3", "--duration", "0.5", "--quiet", "-o", output.path] + extra)
        return (result, result.exitCode == 0 ? try AudioFile.read(output).channels[0] : nil)
    }

    @Test("swap --cross-replace-word reaches the schedule: the default's bound leaves the audio bit-identical, another bound changes it; bad bounds are usage errors with the reason")
    func perWordBounds() throws {
        let plain = try swap([], to: "plain.wav")
        let same = try swap(["--cross-replace-word", "cat=8e-1"], to: "same.wav")
        let words = try swap(["--cross-replace-word", "cat=0.4-1", "barking=0"], to: "words.wav")
        for run in [plain, same, words] { #expect(run.result.exitCode == 0, "\(run.result.standardError)") }
        #expect(plain.samples != nil && same.samples == plain.samples)
        #expect(words.samples != nil && words.samples != plain.samples)
        for (bounds, reason) in [("cat=1.5", "--cross-replace-word cat: fractions must lie in [0, 1]"),
                                 ("cat=0.6-0.2", "with the start before the end, got 0.6-0.2"),
                                 ("cat=-0.1", "--cross-replace-word cat: fractions"), ("cat", "--cross-replace-word"),
                                 ("cat=0.2 cat=0.3", "names \"cat\" twice")] {
            let result = try swap(["--cross-replace-word"] + bounds.split(separator: " ").map(String.init), to: "bad.wav").result
            #expect(result.exitCode == 2 && result.standardError.contains(reason), "\(bounds): \(result.standardError)")
        }
        // The record holds the schedule and blend the run used, so that it remakes the run.
        let recorded = try swap(["--cross-replace-word", "cat=0.4-1", "--self-replace", "0.2", "--blend", "dog", "cat", "--json"],
                                to: "recorded.wav").result
        let details = try #require((try JSONSerialization.jsonObject(with: Data(recorded.standardOutput.utf8)) as? [String: Any])?["details"]
                                   as? [String: Any], "\(recorded.standardOutput)\(recorded.standardError)")
        #expect(details["cross_replace"] as? Double == 0.8 && details["self_replace"] as? Double == 0.2, "\(details)")
        #expect((details["cross_replace_words"] as? [String: [Double]])?["cat"] == [0.4, 1], "\(details)")
        #expect(details["blend"] as? [String] == ["dog", "cat"], "\(details)")
        let unknown = try swap(["--cross-replace-word", "bird=0.3"], to: "bad.wav").result
        #expect(unknown.exitCode == 1 && unknown.standardError.contains("\"bird\" is not a word of"), "\(unknown.standardError)")
    }

    @Test("swap shares one start noise by default: bit-identical to --shared-noise; --no-shared-noise draws one per prompt; with --from either flag is a usage error")
    func startNoise() throws {
        let byDefault = try swap([], to: "default-noise.wav").samples
        let shared = try swap(["--shared-noise"], to: "shared-noise.wav").samples
        #expect(byDefault != nil && shared == byDefault)
        let perPrompt = try swap(["--no-shared-noise"], to: "per-prompt-noise.wav").samples
        #expect(perPrompt != nil && perPrompt != byDefault)
        for flag in ["--shared-noise", "--no-shared-noise"] {
            let result = try swap(["--from", clip, flag], to: "x.wav").result
            #expect(result.exitCode == 2 && result.standardError.contains("drop \(flag)"), "\(result.standardError)")
        }
    }
}
