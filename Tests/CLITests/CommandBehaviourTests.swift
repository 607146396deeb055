import AudioDSP
import Compute
import Foundation
import Testing
import TestSupport

/// What every command does the same way (docs/cli.md): one `error:` line, the exit-code policy,
/// negative numbers and times as values, outputs checked before work, one `--json` record, and
/// an output stage that never clips silently. With the embedded model unless a case says otherwise.
@Suite("Every command behaves the same way")
struct CommandBehaviourTests {
    private func scratch(_ name: String) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("behaviour-\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        return folder
    }

    /// A generated clip to edit, written once per test into `folder`.
    private func clip(in folder: URL) throws -> String {
        let path = folder.appendingPathComponent("clip.wav").path
        let result = try CommandRunner.run("auffusion", ["generate", "a low pitched beep", "--steps", "3", "-o", path, "--quiet"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        return path
    }

    private func lines(_ text: String) -> [Substring] { text.split(separator: "\n") }

    @Test("usage errors are one error line with exit code 2; run failures exit 1")
    func exitCodes() throws {
        let folder = try scratch("exit")
        let input = try clip(in: folder)
        let out = folder.appendingPathComponent("out.wav").path
        let usage: [([String], String)] = [
            (["transfer", input, "a beep", "--strength", "1.5", "-o", out], "--strength must be between 0 and 1, got 1.5"),
            (["transfer", input, "a beep", "--strength", "-0.1", "-o", out], "--strength must be between 0 and 1, got -0.1"),
            (["inpaint", input, "a beep", "--mask", "1.5-1.0", "-o", out], "the end must come after the start"),
            (["generate", "", "-o", out], "give a prompt"),
            (["generate", "a beep", "-o", out, "--frobnicate"], "frobnicate"),
            (["transfer", input, "a beep", "--sample-rate", "500", "-o", out], "--sample-rate must be between 1000 and 768000 Hz, got 500"),
            (["edit", "--batch", input, "--output-dir", folder.path, "--channels", "65"], "--channels must be between 1 and 64, got 65"),
            (["swap", "a dog", "a cat", "--cross-replace", "2", "-o", out], "--cross-replace: "),
            (["transfer", input, "a beep"], "give -o OUT"),
            (["generate", "a beep", "--unconditional", "-o", out], "--unconditional generates with no prompt"),
            (["generate", "a beep", "-n", "-1", "--output-dir", folder.path], "the number of takes must be in 1...10000, got -1"),
            (["help", "bogus"], "no command \"bogus\""),
            (["generate", "--unconditional", "--guidance", "3", "-o", out], "drop the prompt, --negative and --guidance"),
            (["swap", "a low beep", "a high beep", "--channels", "2", "-o", out], "apply to an edit of a clip (--from IN.wav)"),
            (["swap", "a low beep", "a high beep", "--source-guidance", "2", "-o", out], "need --from IN.wav"),
            (["swap", "", "a high beep", "-o", out], "give both prompts"),
            (["reweight", " ", "--weight", "beep=2", "-o", out], "give a prompt"),
            (["transfer", input, "a beep", "--start", "sdedit", "--source-prompt", "a tone", "-o", out], "--source-prompt applies when"),
            (["transfer", input, "a beep", "--start", "ddpm", "--scheduler", "euler", "-o", out], "--scheduler does not apply"),
            (["generate", "a beep", "-n", "2", "--output-dir", folder.path, "--save-mel", out], "name one file"),
            (["edit", "--batch", input, "--output-dir", folder.path, "--spectrogram", out], "name one file"),
            (["inpaint", input, "noise", "--mask", "0.1-0.2", "--crossfade", "1e300", "-o", out], "--crossfade must be between 0 and 60000 ms"),
        ]
        for (arguments, fragment) in usage {
            let result = try CommandRunner.run("auffusion", arguments)
            #expect(result.exitCode == 2, "\(arguments): \(result.standardError)")
            #expect(lines(result.standardError).count == 1 && result.standardError.hasPrefix("error: "), "\(result.standardError)")
            #expect(result.standardError.contains(fragment), "\(result.standardError)")
        }
        let blink = try CommandRunner.run("auffusion", ["generate", "a beep", "--duration", "0.001", "-o", out])
        #expect(blink.exitCode == 1 && blink.standardError.hasSuffix("--duration must be at least one frame of the model (0.01 s), got 0.001\n"),
                "\(blink.standardError)")
        #expect(!FileManager.default.fileExists(atPath: out))
        let missing = try CommandRunner.run("auffusion", ["edit", folder.appendingPathComponent("none.json").path, "-o", out])
        #expect(missing.exitCode == 1 && missing.standardError == "error: \(folder.path)/none.json: no such file\n",
                "\(missing.standardError)")
        // A misspelt instruction set is a usage error, not the widest set run without a word.
        let isa = try CommandRunner.run("auffusion", ["tokens", "a dog"], environment: ["AUFFUSION_ISA": "avx-2"])
        #expect(isa.exitCode == 2 && isa.standardError.hasPrefix("error: AUFFUSION_ISA is \"avx-2\"; give one of baseline, avx2"),
                "\(isa.standardError)")
        // A file where a folder must be made: the system's reason, not "NSCocoaErrorDomain error 512".
        let workFile = folder.appendingPathComponent("work-file")
        try Data().write(to: workFile)
        let serve = try CommandRunner.run("auffusion", ["serve", "--workdir", workFile.path, "--port", "0", "--quiet"])
        #expect(serve.exitCode == 1 && serve.standardError == "error: \(workFile.path)/clips: Not a directory\n", "\(serve.standardError)")
    }

    @Test("--version prints the version and help names the command asked for")
    func versionAndHelp() throws {
        let version = try CommandRunner.run("auffusion", ["--version"])
        #expect(version.exitCode == 0 && version.standardOutput.hasPrefix("auffusion "), "\(version.standardOutput)")
        let help = try CommandRunner.run("auffusion", ["help", "refine"])
        #expect(help.exitCode == 0 && help.standardOutput.contains("refinement") && help.standardOutput.contains("USAGE: auffusion refine"),
                "\(help.standardOutput)")
    }

    @Test("times as m:ss.s and ranges as START+LENGTH mean the same seconds as START-END")
    func timesAndRanges() throws {
        let folder = try scratch("times")
        let input = try clip(in: folder)
        var records: [[String: Any]] = []
        for mask in ["0.5-1.25", "0:00.5+0.75"] {
            let result = try CommandRunner.run("auffusion", ["inpaint", input, "white noise", "--mask", mask, "--steps", "2",
                                                             "-o", folder.appendingPathComponent("f.wav").path, "--json"])
            #expect(result.exitCode == 0, "\(result.standardError)")
            records.append(try #require(JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]))
        }
        let masks = records.map { ($0["details"] as? [String: Any])?["mask"] as? [[Double]] }
        #expect(masks[0] == [[0.5, 1.25]] && masks[0] == masks[1], "\(masks)")
    }

    @Test("outputs are checked before any work: two outputs on one file, a missing folder, a folder named as a file, a file named as the maps folder; a failed attention run leaves no folder")
    func outputsCheckedFirst() throws {
        let folder = try scratch("outputs")
        let same = folder.appendingPathComponent("x.wav").path
        let swap = try CommandRunner.run("auffusion", ["swap", "a low pitched beep", "a high pitched beep", "-o", same,
                                                       "--source-output", same])
        #expect(swap.exitCode == 1 && swap.standardError.contains("named as two outputs"), "\(swap.standardError)")
        #expect(!FileManager.default.fileExists(atPath: same))
        let audio = folder.appendingPathComponent("g.wav").path
        let picture = folder.appendingPathComponent("nodir/s.png").path
        let generate = try CommandRunner.run("auffusion", ["generate", "a beep", "-o", audio, "--spectrogram", picture, "--steps", "2"])
        #expect(generate.exitCode == 1 && generate.standardError.contains("does not exist"), "\(generate.standardError)")
        #expect(!FileManager.default.fileExists(atPath: audio), "nothing is written when an output cannot be")
        let mel = try CommandRunner.run("auffusion", ["generate", "a beep", "-o", audio, "--save-mel", folder.path, "--steps", "2"])
        #expect(mel.exitCode == 1 && mel.standardError == "error: cannot write \(folder.path): it is a folder; name a file\n",
                "\(mel.standardError)")
        #expect(!FileManager.default.fileExists(atPath: audio))
        let audioFolder = try CommandRunner.run("auffusion", ["generate", "a beep", "-o", folder.path, "--steps", "2"])
        #expect(audioFolder.standardError == "error: cannot write \(folder.path): it is a folder; name a file\n", "\(audioFolder.standardError)")
        let input = try clip(in: folder)
        let maps = try CommandRunner.run("auffusion", ["swap", "a low pitched beep", "a high pitched beep", "--from", input, "-o", audio,
                                                       "--maps", input, "--steps", "2"])
        #expect(maps.exitCode == 1 && maps.standardError.contains("it is a file; name a folder"), "\(maps.standardError)")
        #expect(!FileManager.default.fileExists(atPath: audio))
        let mapsFolder = folder.appendingPathComponent("mm")
        for (extra, reason) in [(["--save-mel", mapsFolder.appendingPathComponent("maps.npy").path, "--maps", mapsFolder.path], "named as two outputs"),
                                (["--maps", audio], "it is a file; name a folder")] {
            try FileManager.default.createDirectory(at: mapsFolder, withIntermediateDirectories: true)
            let collision = try CommandRunner.run("auffusion", ["swap", "a low pitched beep", "a high pitched beep", "-o", audio, "--steps", "2"] + extra)
            #expect(collision.exitCode == 1 && collision.standardError.contains(reason), "\(extra): \(collision.standardError)")
            #expect(!FileManager.default.fileExists(atPath: audio))
        }
        let picture2 = folder.appendingPathComponent("s.png").path
        for extra in [["--mel-npy", picture2], ["--image-npy", folder.appendingPathComponent("nodir/i.npy").path]] {
            let analysis = try CommandRunner.run("auffusion", ["spectrogram", input, "-o", picture2] + extra)
            #expect(analysis.exitCode == 1 && !FileManager.default.fileExists(atPath: picture2), "\(extra): \(analysis.standardError)")
        }
        let long = folder.appendingPathComponent("long-maps")
        let attention = try CommandRunner.run("auffusion", ["attention", "a beep", "--duration", "5", "-o", long.path, "--steps", "2"])
        #expect(attention.exitCode == 1 && attention.standardError.contains("give --duration 2.56 s or less"), "\(attention.standardError)")
        #expect(!FileManager.default.fileExists(atPath: long.path), "the folder the failed run made is gone")
    }

    @Test("swap --maps from noise on a canvas wider than the model's writes its default level; both peak guards are recorded; spectrogram's image is an output")
    func wideMapsAndRecords() throws {
        let folder = try scratch("records")
        let maps = folder.appendingPathComponent("deep/er/maps"), audio = folder.appendingPathComponent("s.wav").path   // parents made too
        let swap = try CommandRunner.run("auffusion", ["swap", "a low pitched beep", "a high pitched beep", "--duration", "5", "--steps", "2",
                                                       "-o", audio, "--source-output", folder.appendingPathComponent("source.wav").path,
                                                       "--maps", maps.path, "--json"])
        #expect(swap.exitCode == 0, "\(swap.standardError)")
        let record = try #require(JSONSerialization.jsonObject(with: Data(swap.standardOutput.utf8)) as? [String: Any])
        let outputs = try #require(record["outputs"] as? [String: Any])
        #expect(outputs["peak_gain_db"] is Double && outputs["source_peak_gain_db"] is Double, "\(outputs)")
        #expect(try NumPyFile.read(maps.appendingPathComponent("maps.npy")).shape.suffix(2) == [8, 63], "5 s: 8 x 63 latents, the 8-row level")
        // Levels are named on one canvas of the model, as --blend-resolution names them: 8x32 is the 8-row level here too.
        let named = try CommandRunner.run("auffusion", ["swap", "a low pitched beep", "a high pitched beep", "--duration", "5", "--steps", "2",
                                                        "-o", audio, "--maps", maps.path, "--maps-resolution", "8x32", "--quiet"])
        #expect(named.exitCode == 0, "\(named.standardError)")
        let picture = folder.appendingPathComponent("s.png").path, image = folder.appendingPathComponent("s.npy").path
        let analysis = try CommandRunner.run("auffusion", ["spectrogram", audio, "-o", picture, "--image-npy", image, "--json"])
        let files = (try JSONSerialization.jsonObject(with: Data(analysis.standardOutput.utf8)) as? [String: Any])?["outputs"] as? [String: Any]
        #expect(files?["image"] as? String == image && files?["spectrogram"] as? String == picture, "\(analysis.standardOutput)")
    }

    @Test("every command's --json record has the same shape: command, absolute outputs, seed, sample rate, timings")
    func oneRecordShape() throws {
        let folder = try scratch("json")
        let input = try clip(in: folder)
        let plan = folder.appendingPathComponent("plan.json")
        try #"{"input": "clip.wav", "passes": [{"prompt": "white noise", "start": {"from": "clip", "strength": 0.5}, "steps": 2}]}"#
            .write(to: plan, atomically: true, encoding: .utf8)
        let out = { (name: String) in folder.appendingPathComponent(name).path }
        let commands: [[String]] = [
            ["generate", "a beep", "-o", out("g.wav"), "--steps", "2", "--seed", "4"],
            ["transfer", input, "a beep", "-o", out("t.wav"), "--steps", "2", "--seed", "4"],
            ["inpaint", input, "a beep", "--mask", "0.5-1", "-o", out("i.wav"), "--steps", "2", "--seed", "4"],
            ["swap", "a low pitched beep", "a high pitched beep", "-o", out("s.wav"), "--steps", "2", "--seed", "4"],
            ["reweight", "a beep and white noise", "--weight", "noise=2", "-o", out("r.wav"), "--steps", "2", "--seed", "4"],
            ["edit", plan.path, "-o", out("e.wav"), "--seed", "4"],
            ["attention", "a beep", "-o", out("maps"), "--steps", "2", "--seed", "4"],
        ]
        for arguments in commands {
            let result = try CommandRunner.run("auffusion", arguments + ["--json"])
            #expect(result.exitCode == 0, "\(arguments): \(result.standardError)")
            let record = try #require(JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any],
                                      "\(arguments): \(result.standardOutput)")
            #expect(record["command"] as? String == arguments[0])
            #expect(record["seed"] as? Int == 4 && record["sample_rate"] as? Double == 16000, "\(record)")
            #expect((record["timings"] as? [String: Any])?["total_s"] is Double)
            let audio = try #require((record["outputs"] as? [String: Any])?["audio"] as? String, "\(record)")
            #expect(audio.hasPrefix("/") && FileManager.default.fileExists(atPath: audio), "\(audio)")
        }
    }

    @Test("serve --json prints its record once it listens (the port it chose, the address), and SIGTERM stops it with exit 0")
    func serveRecord() throws {
        let folder = try scratch("serve")
        let process = Process()
        process.executableURL = try #require(CommandRunner.productsDirectory()).appendingPathComponent("auffusion")
        process.arguments = ["serve", "--port", "0", "--workdir", folder.appendingPathComponent("work").path, "--json"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        var text = Data()
        let deadline = Date().addingTimeInterval(60)
        while !text.contains(UInt8(ascii: "\n")), Date() < deadline {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text.append(chunk)
        }
        let line = try #require(String(decoding: text, as: UTF8.self).split(separator: "\n").first)
        let record = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(line)")
        let details = try #require(record["details"] as? [String: Any])
        let port = try #require(details["port"] as? Int)
        #expect(record["command"] as? String == "serve" && port > 0 && details["url"] as? String == "http://127.0.0.1:\(port)/")
        #expect(details["token"] == nil)
        process.terminate()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit && process.terminationStatus == 0)
    }

    @Test("generated audio that would clip is scaled to -0.1 dBFS and the record says by how much; --no-peak-guard writes it as is")
    func peakGuard() throws {
        let folder = try scratch("peak")
        // "a low pitched beep", seed 3, 25 steps: a tenth of the vocoder's samples lie beyond full scale.
        let base = ["generate", "a low pitched beep", "--seed", "3", "--steps", "25", "--json"]
        let guarded = try CommandRunner.run("auffusion", base + ["-o", folder.appendingPathComponent("g.wav").path])
        let raw = try CommandRunner.run("auffusion", base + ["-o", folder.appendingPathComponent("r.wav").path, "--no-peak-guard"])
        #expect(guarded.exitCode == 0 && raw.exitCode == 0)
        let gain = try #require(((JSONSerialization.jsonObject(with: Data(guarded.standardOutput.utf8)) as? [String: Any])?["outputs"]
            as? [String: Any])?["peak_gain_db"] as? Double)
        #expect(gain < -0.1, "the guard should have scaled: \(gain) dB")
        #expect(guarded.standardError.contains("would clip"), "\(guarded.standardError)")
        func fullScaleShare(_ name: String) throws -> Double {
            let samples = try AudioFile.read(folder.appendingPathComponent(name)).channels[0]
            return Double(samples.filter { abs($0) >= 32767 / 32768 }.count) / Double(samples.count)
        }
        #expect(try fullScaleShare("g.wav") == 0)
        #expect(try fullScaleShare("r.wav") > 0.01, "the unguarded file should clip, as the vocoder's output does")
    }

    @Test("a whole plan is checked before the first pass runs; unknown keys list the known ones")
    func planCheckedFirst() throws {
        let folder = try scratch("plan")
        _ = try clip(in: folder)
        let cases: [(String, String)] = [
            (#"{"input": "clip.wav", "passes": [{"prompt": "white noise", "start": {"from": "clip", "strenght": 0.5}}]}"#,
             #"pass 1, start: unknown key "strenght"; known keys: file, from, method, source_guidance, source_prompt, strength"#),
            (#"{"input": "clip.wav", "passes": [{"prompt": "a beep", "start": {"from": "clip"}, "steps": 3}, {"prompt": "a beep", "start": {"from": "previous"}, "attention": {"source": "a beep", "alignment": "none", "weights": {"dog": 2}}}]}"#,
             #"pass 2: "dog" is not a word of "a beep""#),
            (#"{"input": "clip.wav", "passes": [{"prompt": "a beep", "start": {"from": "clip"}, "steps": 3}, {"prompt": "a high beep", "start": {"from": "previous"}, "attention": {"source": "a low beep", "alignment": "swap", "blend": ["beep"], "blend_resolution": "3x3"}}]}"#,
             "pass 2: no cross-attention maps at 3x3 (this run has: 8x32, 4x16)"),
        ]
        for (text, message) in cases {
            let plan = folder.appendingPathComponent("plan.json")
            try text.write(to: plan, atomically: true, encoding: .utf8)
            let result = try CommandRunner.run("auffusion", ["edit", plan.path, "-o", folder.appendingPathComponent("e.wav").path])
            #expect(result.exitCode == 1, "\(result.standardError)")
            #expect(!result.standardError.contains("step "), "no pass may run before the plan is checked: \(result.standardError)")
            #expect(result.standardError.contains(message), "\(result.standardError)")
        }
    }

    @Test("swap --blend, punctuated reweight words, vocode of --save-mel and the step limit (of a generation, a one-pass edit and an inversion; a plan's fractional steps) work on the embedded model")
    func embeddedModelCases() throws {
        let folder = try scratch("embedded")
        let out = { (name: String) in folder.appendingPathComponent(name).path }
        let blend = try CommandRunner.run("auffusion", ["swap", "a low pitched beep", "a high pitched beep", "--blend", "pitched",
                                                        "-o", out("b.wav"), "--steps", "3", "--quiet"])
        #expect(blend.exitCode == 0, "\(blend.standardError)")
        let reweight = try CommandRunner.run("auffusion", ["reweight", "a beep, and white Noise.", "--weight", "noise=2",
                                                           "-o", out("r.wav"), "--steps", "3", "--quiet"])
        #expect(reweight.exitCode == 0, "\(reweight.standardError)")
        let generated = try CommandRunner.run("auffusion", ["generate", "a beep", "-o", out("g.wav"), "--save-mel", out("m.npy"),
                                                            "--steps", "2", "--quiet"])
        #expect(generated.exitCode == 0, "\(generated.standardError)")
        let vocoded = try CommandRunner.run("auffusion", ["vocode", out("m.npy"), "-o", out("v.wav"), "--quiet"])
        #expect(vocoded.exitCode == 0 && (try? AudioFile.read(URL(fileURLWithPath: out("v.wav"))).frameCount) ?? 0 > 0,
                "\(vocoded.standardError)")
        var limits: [String] = []
        for steps in ["1000", "5000"] {
            let result = try CommandRunner.run("auffusion", ["generate", "a beep", "-o", out("s.wav"), "--steps", steps])
            #expect(result.exitCode == 1)
            let line = result.standardError.split(separator: "\n").first { $0.hasPrefix("error:") } ?? ""
            limits.append(String(line.split(separator: ",").first ?? ""))
        }
        #expect(limits[0] == limits[1] && limits[0].contains("--steps must be between 1 and 999"), "\(limits)")
        // A command that runs one pass speaks of its flags, not of a pass the user never wrote.
        let transfer = try CommandRunner.run("auffusion", ["transfer", out("g.wav"), "a beep", "--steps", "1000", "-o", out("t.wav"), "--quiet"])
        #expect(transfer.exitCode == 1 && transfer.standardError == "error: --steps must be between 1 and 999 for this model, got 1000\n",
                "\(transfer.standardError)")
        // An inversion's schedule is held to the same limit before its first step, not after its last.
        let invert = try CommandRunner.run("auffusion", ["invert", out("g.wav"), "--steps", "1000", "-o", out("g.inversion")])
        #expect(invert.exitCode == 1 && !invert.standardError.contains("inverting")
                && invert.standardError.contains("--steps must be between 1 and 999 for this model, got 1000"), "\(invert.standardError)")
        let plan = folder.appendingPathComponent("fraction.json")
        try #"{"input": "g.wav", "passes": [{"prompt": "a beep", "start": {"from": "clip"}, "steps": 5.5}]}"#
            .write(to: plan, atomically: true, encoding: .utf8)
        let fraction = try CommandRunner.run("auffusion", ["edit", plan.path, "-o", out("f.wav")])
        #expect(fraction.exitCode == 1 && fraction.standardError.contains("pass 1, steps: expected a whole number, got 5.5"),
                "\(fraction.standardError)")
    }
}
