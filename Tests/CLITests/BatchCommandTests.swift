import AudioDSP
import Foundation
import Testing
import TestSupport

/// `generate` and `edit` over many outputs (docs/batch.md): failed lines, resuming, takes, seeds,
/// shards, confined outputs.
@Suite("auffusion generate and edit with --batch, -n, --seeds, --shard, --skip-existing")
struct BatchCommandTests {
    let model: URL
    let work: URL

    init() throws {
        model = try PipelineFolders.folder("standard")
        work = model.deletingLastPathComponent()
    }

    private func write(_ lines: [String], to name: String) throws -> URL {
        let url = work.appendingPathComponent(name)
        try lines.joined(separator: "\n").write(to: url, atomically: true, encoding: .utf8)
        return url
    }

    private func generate(_ arguments: [String], environment: [String: String] = [:]) throws -> CommandResult {
        try CommandRunner.run("auffusion", ["generate", "--model", model.path, "--steps", "1", "--duration", "0.3"] + arguments,
                              environment: environment)
    }

    /// The JSON objects of a manifest or of `--json` output.
    private func entries(_ text: String) -> [[String: Any]] {
        text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }

    private func manifest(_ folder: URL, _ name: String = "manifest.jsonl") throws -> [[String: Any]] {
        entries(try String(contentsOf: folder.appendingPathComponent(name), encoding: .utf8))
    }

    @Test("every line runs although one fails: one error line and one failed entry for it, exit 1 at the end")
    func badLine() throws {
        let batch = try write([#"{"prompt": "a dog", "output": "sub/deep/dog.flac"}"#, #"{"promt": "typo"}"#, "",
                               #"{"prompt": "rain", "output": "../escaped.wav"}"#, #"{"prompt": "a bell", "seed": 3}"#], to: "bad.jsonl")
        let out = work.appendingPathComponent("out")
        let result = try generate(["--batch", batch.path, "--output-dir", out.path, "--json"])
        #expect(result.exitCode == 1)
        let errors = result.standardError.split(separator: "\n").filter { $0.hasPrefix("error:") }
        #expect(errors.count == 3, "\(result.standardError)")
        #expect(errors[0].contains("bad.jsonl:2: unknown key \"promt\"") && errors[1].contains("bad.jsonl:4: the output ../escaped.wav is outside"))
        #expect(errors[2].contains("2 of 4 tasks failed"))
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("escaped.wav").path))
        #expect(try AudioFile.read(out.appendingPathComponent("sub/deep/dog.flac")).frameCount == 4800)
        let records = entries(result.standardOutput)
        #expect(records.map { $0["status"] as? String } == ["done", "failed", "failed", "done"])
        #expect(records.map { $0["line"] as? Int } == [0, 1, 3, 4])
        #expect(try manifest(out).map { $0["status"] as? String } == ["done", "failed", "failed", "done"])
        let last = records[3]
        #expect(last["seed"] as? Int == 3 && last["prompt"] as? String == "a bell" && last["steps"] as? Int == 1)
        #expect((last["outputs"] as? [String: Any])?["audio"] as? String == out.appendingPathComponent("000004.wav").path)
        #expect(last["seconds"] as? Double == 0.3 && (last["model"] as? String)?.count == 16)
        #expect((last["timings"] as? [String: Any])?["total_s"] is Double)
        // Two lines naming one output: refused before anything runs.
        let twice = try write([#"{"prompt": "a", "output": "x.wav"}"#, #"{"prompt": "b", "output": "./x.wav"}"#], to: "twice.jsonl")
        let refused = try generate(["--batch", twice.path, "--output-dir", work.appendingPathComponent("twice").path])
        #expect(refused.exitCode == 1 && refused.standardError.contains("lines 1 and 2 both write"))
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("twice/manifest.jsonl").path))
    }

    @Test("a killed run resumes with --skip-existing: only the missing or unrecorded outputs are redone, bit for bit")
    func resume() throws {
        let batch = try write((0..<4).map { #"{"prompt": "tone \#($0)", "seed": \#($0)}"# }, to: "four.jsonl")
        let out = work.appendingPathComponent("resume")
        #expect(try generate(["--batch", batch.path, "--output-dir", out.path, "--quiet"]).exitCode == 0)
        let first = try (0..<4).map { try Data(contentsOf: out.appendingPathComponent(String(format: "%06d.wav", $0))) }
        // What a run killed during line 2 leaves: lines 0 and 1 recorded, line 2's output missing
        // (a stray temporary file instead), line 3 not reached, and a manifest line cut short.
        let lines = try String(contentsOf: out.appendingPathComponent("manifest.jsonl"), encoding: .utf8).split(separator: "\n")
        try (lines[0...1].joined(separator: "\n") + "\n" + lines[2].prefix(40))
            .write(to: out.appendingPathComponent("manifest.jsonl"), atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(at: out.appendingPathComponent("000002.wav"))
        try Data([1, 2]).write(to: out.appendingPathComponent(".000002.123.partial.wav"))
        let rerun = try generate(["--batch", batch.path, "--output-dir", out.path, "--skip-existing", "--json"])
        #expect(rerun.exitCode == 0, "\(rerun.standardError)")
        #expect(entries(rerun.standardOutput).map { $0["status"] as? String } == ["skipped", "skipped", "done", "done"])
        #expect(try (0..<4).map { try Data(contentsOf: out.appendingPathComponent(String(format: "%06d.wav", $0))) } == first)
        // The manifest now records every line as done exactly once.
        let done = try manifest(out).filter { $0["status"] as? String == "done" }.compactMap { $0["line"] as? Int }
        #expect(done.sorted() == [0, 1, 2, 3])
        let again = try generate(["--batch", batch.path, "--output-dir", out.path, "--skip-existing", "--json"])
        #expect(entries(again.standardOutput).allSatisfy { $0["status"] as? String == "skipped" })
    }

    @Test("--skip-existing redoes an output whose line or options changed, and finds the folder by another path")
    func resumeChecksSettings() throws {
        let batch = try write([#"{"prompt": "a dog", "seed": 1}"#, #"{"prompt": "a cat", "seed": 2}"#], to: "settings.jsonl")
        let out = work.appendingPathComponent("settings")
        #expect(try generate(["--batch", batch.path, "--output-dir", out.path, "--quiet"]).exitCode == 0)
        let first = try Data(contentsOf: out.appendingPathComponent("000000.wav"))
        func statuses(_ batch: URL, _ folder: URL, _ extra: [String] = []) throws -> [String?] {
            let result = try generate(["--batch", batch.path, "--output-dir", folder.path, "--skip-existing", "--json"] + extra)
            #expect(result.exitCode == 0, "\(result.standardError)")
            return entries(result.standardOutput).map { $0["status"] as? String }
        }
        // The same folder through a symbolic link, or moved: the outputs are found.
        let link = work.appendingPathComponent("settings-link")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: out)
        #expect(try statuses(batch, link) == ["skipped", "skipped"])
        // Line 0 now asks for another prompt, and a seed given differently: it is redone.
        let changed = try write([#"{"prompt": "a bird", "seed": 1}"#, #"{"prompt": "a cat", "seed": 2}"#], to: "settings.jsonl")
        #expect(try statuses(changed, out) == ["done", "skipped"])
        #expect(try Data(contentsOf: out.appendingPathComponent("000000.wav")) != first)
        // An option of the command line over every line: both are redone.
        #expect(try statuses(changed, out, ["--guidance", "2"]) == ["done", "done"])
        #expect(try statuses(changed, out, ["--guidance", "2"]) == ["skipped", "skipped"])
    }

    @Test("a batch refuses, before anything runs, a line whose output is a file a line reads, or one file reached through a link")
    func outputsNoLineReads() throws {
        let folder = work.appendingPathComponent("crossed")
        try FileManager.default.createDirectory(at: folder.appendingPathComponent("real"), withIntermediateDirectories: true)
        let clip = folder.appendingPathComponent("g3.wav")
        #expect(try generate(["a beep", "--seed", "1", "-o", clip.path, "--quiet"]).exitCode == 0)
        let original = try Data(contentsOf: clip)
        let pass = #""passes": [{"prompt": "a bell", "start": {"from": "clip", "strength": 0.5}, "steps": 2}]"#
        let batch = try write([#"{"input": "crossed/g3.wav", "output": "res/x.wav", \#(pass)}"#,
                               #"{"input": "crossed/g3.wav", "output": "crossed/g3.wav", \#(pass)}"#], to: "crossed.jsonl")
        for shard in ["0/2", "1/2"] {
            let result = try CommandRunner.run("auffusion", ["edit", "--batch", batch.path, "--output-dir", work.path, "--shard", shard,
                                                             "--model", model.path])
            #expect(result.exitCode == 1 && result.standardError.contains("line 2 writes \(clip.path), which line 1 reads"),
                    "\(result.standardError)")
        }
        #expect(try Data(contentsOf: clip) == original)
        #expect(!FileManager.default.fileExists(atPath: work.appendingPathComponent("res/x.wav").path))
        // Two names of one file through a symbolic link inside the output folder.
        try FileManager.default.createSymbolicLink(at: folder.appendingPathComponent("link"), withDestinationURL: folder.appendingPathComponent("real"))
        let linked = try write([#"{"prompt": "a", "output": "real/x.wav"}"#, #"{"prompt": "b", "output": "link/x.wav"}"#], to: "linked.jsonl")
        let refused = try generate(["--batch", linked.path, "--output-dir", folder.path])
        #expect(refused.exitCode == 1 && refused.standardError.contains("lines 1 and 2 both write"), "\(refused.standardError)")
    }

    @Test("a batch line's output is checked before its run: a folder in the way fails the line without a step")
    func outputCheckedFirst() throws {
        let out = work.appendingPathComponent("in-the-way")
        try FileManager.default.createDirectory(at: out.appendingPathComponent("isdir.wav"), withIntermediateDirectories: true)
        let batch = try write([#"{"prompt": "a dog", "output": "isdir.wav", "seed": 1}"#], to: "in-the-way.jsonl")
        let result = try generate(["--batch", batch.path, "--output-dir", out.path])
        #expect(result.exitCode == 1 && result.standardError.contains("it is a folder"), "\(result.standardError)")
        #expect(!result.standardError.contains("step 1/"), "the line ran before its output was checked")
        // The takes of one plan name the plan in their errors.
        let plan = work.appendingPathComponent("missing-input.json")
        try #"{"input": "nowhere.wav", "passes": [{"prompt": "a bell", "start": {"from": "clip", "strength": 0.5}, "steps": 2}]}"#
            .write(to: plan, atomically: true, encoding: .utf8)
        let takes = try CommandRunner.run("auffusion", ["edit", plan.path, "--output-dir", out.path, "-n", "2", "--model", model.path])
        #expect(takes.exitCode == 1 && takes.standardError.contains("error: \(plan.path):1: "), "\(takes.standardError)")
        // The takes of a plan that names its output keep that name and format.
        let named = work.appendingPathComponent("named.json")
        try #"{"output": "rain.flac", "passes": [{"prompt": "rain", "start": {"from": "noise"}, "steps": 1}]}"#
            .write(to: named, atomically: true, encoding: .utf8)
        let namedTakes = try CommandRunner.run("auffusion", ["edit", named.path, "--output-dir", out.path, "-n", "2", "--model", model.path])
        #expect(namedTakes.exitCode == 0, "\(namedTakes.standardError)")
        // Each task shows its steps once each; the rendering after them adds no "step" lines.
        let stepLines = namedTakes.standardError.split(separator: "\n").filter { $0.hasPrefix("step ") }
        #expect(stepLines.count == 2 && stepLines.allSatisfy { $0.hasPrefix("step 1/1 ") },
                "\(namedTakes.standardError)")
        for take in ["rain-001.flac", "rain-002.flac"] {
            #expect(try AudioReader(out.appendingPathComponent(take)).format.container == .flac, "\(take)")
        }
        // A name as long as the file system allows: its temporary file's name is shortened to fit.
        let long = String(repeating: "a", count: 251) + ".wav"
        let longBatch = try write([#"{"prompt": "a dog", "output": "\#(long)", "seed": 1}"#], to: "long-name.jsonl")
        let written = try generate(["--batch", longBatch.path, "--output-dir", out.path, "--quiet"])
        #expect(written.exitCode == 0, "\(written.standardError)")
        #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(long).path))
    }

    @Test("SIGTERM ends a batch at once, leaves no temporary file and loses no --json record; a rerun with --skip-existing finishes it")
    func terminated() throws {
        let batch = try write((0..<40).map { #"{"prompt": "tone \#($0)", "seed": 1}"# }, to: "forty.jsonl")
        var out = work, process = Process(), records = Pipe()
        // A machine that stalls this test for the batch's few seconds lets it end before the
        // signal: that try says nothing, and the next one runs in a folder of its own.
        for attempt in 0..<3 {
            out = work.appendingPathComponent("terminated-\(attempt)")
            (process, records) = (Process(), Pipe())
            process.executableURL = try #require(CommandRunner.productsDirectory()).appendingPathComponent("auffusion")
            process.arguments = ["generate", "--model", model.path, "--steps", "1", "--duration", "0.3", "--batch", batch.path,
                                 "--output-dir", out.path, "--quiet", "--json"]
            process.standardOutput = records
            try process.run()
            let manifestFile = out.appendingPathComponent("manifest.jsonl")
            let deadline = Date().addingTimeInterval(60)
            while process.isRunning, Date() < deadline,
                  ((try? String(contentsOf: manifestFile, encoding: .utf8)) ?? "").split(separator: "\n").count < 2 {
                usleep(20_000)
            }
            let ranOut = !process.isRunning
            process.terminate()
            process.waitUntilExit()
            if !ranOut { break }
        }
        #expect(process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGTERM)
        // Each record is written as its task ends, not kept in a buffer that the signal discards
        // (one may be between its manifest line and its record when the signal comes).
        let printed = entries(String(decoding: records.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)).count
        let ended = try manifest(out).count
        #expect(printed >= 1 && printed >= ended - 1, "\(printed) records of \(ended) tasks ended")
        let left = try FileManager.default.contentsOfDirectory(atPath: out.path)
        #expect(!left.contains { $0.contains("partial") }, "\(left)")
        #expect(left.filter { $0.hasSuffix(".wav") }.count < 40)
        let rerun = try generate(["--batch", batch.path, "--output-dir", out.path, "--skip-existing", "--quiet"])
        #expect(rerun.exitCode == 0, "\(rerun.standardError)")
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".wav") }.count == 40)
    }

    @Test("-n takes count up from --seed, named PROMPT-001…; --seeds lists them; each equals the single run of its seed")
    func takes() throws {
        let out = work.appendingPathComponent("takes")
        let result = try generate(["a low beep", "-n", "2", "--seed", "7", "--output-dir", out.path, "--json"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(entries(result.standardOutput).map { $0["seed"] as? Int } == [7, 8])
        let single = work.appendingPathComponent("single.wav")
        #expect(try generate(["a low beep", "--seed", "8", "-o", single.path, "--quiet"]).exitCode == 0)
        #expect(try Data(contentsOf: out.appendingPathComponent("a-low-beep-002.wav")) == Data(contentsOf: single))
        let listed = try generate(["a low beep", "--seeds", "8,10-11", "--output-dir", work.appendingPathComponent("listed").path, "--json"])
        #expect(entries(listed.standardOutput).map { $0["seed"] as? Int } == [8, 10, 11])
        #expect(try Data(contentsOf: work.appendingPathComponent("listed/a-low-beep-001.wav")) == Data(contentsOf: single))
        for (arguments, fragment) in [(["-n", "2", "-o", single.path], "--output-dir"), (["-n", "2", "--seeds", "1"], "either -n or --seeds"),
                                      (["--seeds", "3-1", "--output-dir", out.path], "--seeds"),
                                      (["-n", "0", "--output-dir", out.path], "number of takes")] {
            let refused = try generate(["a beep"] + arguments)
            #expect(refused.exitCode == 2 && refused.standardError.contains(fragment), "\(arguments): \(refused.standardError)")
        }
    }

    @Test("without --seed a seed is drawn and reported; giving it back makes the same bytes")
    func drawnSeed() throws {
        let first = work.appendingPathComponent("drawn.wav"), second = work.appendingPathComponent("again.wav")
        let result = try generate(["a bell", "-o", first.path, "--json"])
        let seed = try #require(entries(result.standardOutput).first?["seed"] as? Int)
        #expect(try generate(["a bell", "--seed", "\(seed)", "-o", second.path, "--quiet"]).exitCode == 0)
        #expect(try Data(contentsOf: first) == Data(contentsOf: second))
    }

    @Test("--shard auto reads a Slurm array's variables, and refuses outside one")
    func shardAuto() throws {
        let batch = try write((0..<3).map { #"{"prompt": "p\#($0)", "seed": 1}"# }, to: "three.jsonl")
        let out = work.appendingPathComponent("auto")
        let slurm = ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "1", "SLURM_ARRAY_TASK_COUNT": "2"]
        let result = try generate(["--batch", batch.path, "--output-dir", out.path, "--shard", "auto", "--quiet"], environment: slurm)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(try manifest(out, "manifest-1-of-2.jsonl").map { $0["line"] as? Int } == [1])
        let outside = try generate(["--batch", batch.path, "--output-dir", out.path, "--shard", "auto"],
                                   environment: ["SLURM_ARRAY_TASK_ID": "", "JOB_COMPLETION_INDEX": ""])
        #expect(outside.exitCode == 2 && outside.standardError.contains("--shard auto: not in a Slurm job array"))
        let bad = try generate(["--batch", batch.path, "--output-dir", out.path, "--shard", "2/2"])
        #expect(bad.exitCode == 2 && bad.standardError.contains("--shard must be K/N"))
    }

    @Test("the Kubernetes example's pod command runs as a pod of it would, and only a usage error fails its index at once")
    func kubernetesExample() throws {
        let repository = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: repository.appendingPathComponent("docs/batch/kubernetes-indexed-job.yaml"), encoding: .utf8)
        func value(after key: String) throws -> String {
            let line = try #require(text.split(separator: "\n").first { $0.trimmingCharacters(in: .whitespaces).hasPrefix(key) })
            return line.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces)
        }
        let command = try #require(text.range(of: "command: [").map { start in
            text[text.index(before: start.upperBound)...].prefix { $0 != "]" } + "]"
        })
        let arguments = try #require(try JSONSerialization.jsonObject(with: Data(command.utf8)) as? [String])
        let completions = try value(after: "completions:")
        let shardCount = try value(after: "value:").trimmingCharacters(in: CharacterSet(charactersIn: "\""))
        #expect(shardCount == completions, "AUFFUSION_SHARD_COUNT must equal completions")
        #expect(try value(after: "- name:") == value(after: "containerName:"), "the failure policy names the container")
        let failIndexCodes = try value(after: "values:")

        let batch = try write((0..<6).map { #"{"prompt": "p\#($0)", "seed": 1}"# }, to: "pods.jsonl")
        let out = work.appendingPathComponent("pods")
        let podArguments = arguments.dropFirst().map {
            $0.replacingOccurrences(of: "/work/prompts.jsonl", with: batch.path).replacingOccurrences(of: "/work/out", with: out.path)
        } + ["--model", model.path, "--steps", "1", "--duration", "0.3"]
        let pod = ["JOB_COMPLETION_INDEX": "1", "AUFFUSION_SHARD_COUNT": shardCount, "SLURM_ARRAY_TASK_ID": ""]
        let result = try CommandRunner.run("auffusion", podArguments, environment: pod)
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(try manifest(out, "manifest-1-of-\(completions).jsonl").map { $0["line"] as? Int } == [1, 5])
        // A pod of a Job whose count disagrees: a usage error, which the policy fails at once.
        var wrongCount = pod
        wrongCount["AUFFUSION_SHARD_COUNT"] = "1"
        let usage = try CommandRunner.run("auffusion", podArguments, environment: wrongCount)
        #expect(failIndexCodes == "[\(usage.exitCode)]", "\(usage.standardError)")
        // A failed line is exit 1, which the policy retries (resuming) up to backoffLimitPerIndex.
        _ = try write([#"{"promt": "typo"}"#, #"{"prompt": "p"}"#], to: "pods.jsonl")
        var first = pod
        first["JOB_COMPLETION_INDEX"] = "0"
        let failed = try CommandRunner.run("auffusion", podArguments, environment: first)
        #expect(failed.exitCode == 1 && failIndexCodes != "[1]")
    }

    @Test("hostile batch files (issue #22): each bad line ends in its own error line, the batch in exit 1 within seconds; a FIFO in one error line")
    func hostileBatches() throws {
        let pass = #""passes": [{"prompt": "a cat", "start": {"from": "noise"}, "steps": 1}]"#
        let lines: [(String, String)] = [
            (#"{"output": "a.wav", \#(pass), "output": "b.wav"}"#, #"hostile.jsonl:1: not plain JSON at byte 93: the key "output" appears twice in one object"#),
            (#"{"seed": 1, \#(pass),}"#, "hostile.jsonl:2: not plain JSON at byte 84: expected a quoted key"),
            (String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000), "hostile.jsonl:3: not plain JSON at byte 64: nested too deeply"),
            (#"{"output": ""# + String(repeating: "x", count: 2_000_000) + #"", \#(pass)}"#,
             "hostile.jsonl:4: the line is 2000087 bytes; a batch line is limited to 1048576 bytes"),
            (#"{"seed": NaN, \#(pass)}"#, "hostile.jsonl:5: not plain JSON at byte 9: NaN is not a JSON number"),
        ]
        let batch = try write(lines.map(\.0), to: "hostile.jsonl")
        let fifo = work.appendingPathComponent("fifo.jsonl")
        try? FileManager.default.removeItem(at: fifo)
        #expect(mkfifo(fifo.path, 0o600) == 0)
        for (command, file) in [("edit", batch), ("generate", batch), ("edit", fifo)] {
            let started = Date()
            let result = try CommandRunner.run("auffusion", [command, "--batch", file.path, "--output-dir", work.appendingPathComponent("hostile").path,
                                                             "--model", model.path])
            #expect(Date().timeIntervalSince(started) < 10)
            #expect(result.exitCode == 1)
            let errors = result.standardError.split(separator: "\n").filter { $0.hasPrefix("error:") }
            if file == fifo {
                #expect(result.standardError.split(separator: "\n").count == 1)
                #expect(errors == ["error: \(fifo.path) is a FIFO (named pipe), not a regular file"])
                continue
            }
            #expect(errors.count == lines.count + 1, "\(result.standardError)")
            if command == "edit" {
                for (error, (_, reason)) in zip(errors, lines) { #expect(error.contains(reason), "\(error)") }
            }
            #expect(errors.last?.contains("\(lines.count) of \(lines.count) tasks failed") == true)
        }
    }

    @Test("edit --batch runs a plan per line over its clip, with shards; a plan's output may not leave its folder")
    func edits() throws {
        let clip = work.appendingPathComponent("clip.wav")
        #expect(try generate(["a beep", "--seed", "1", "-o", clip.path, "--quiet"]).exitCode == 0)
        let pass = #""passes": [{"prompt": "white noise", "start": {"from": "clip", "strength": 0.5}, "steps": 2}]"#
        // A masked pass: the output is the input file with the fill spliced in (EditedFile).
        let masked = #""passes": [{"prompt": "white noise", "start": {"from": "clip", "strength": 0.5}, "steps": 2, "mask": {"ranges": [[0.1, 0.2]]}}]"#
        let batch = try write([#"{"input": "clip.wav", "seed": 4, \#(pass)}"#, #"{"input": "missing.wav", \#(pass)}"#,
                               #"{"input": "clip.wav", "output": "b/edited.wav", "seed": 5, \#(masked)}"#], to: "edits.jsonl")
        let out = work.appendingPathComponent("edits")
        var statuses: [String?] = []
        for shard in ["0/2", "1/2"] {
            let result = try CommandRunner.run("auffusion", ["edit", "--batch", batch.path, "--output-dir", out.path, "--shard", shard,
                                                             "--model", model.path, "--json"])
            statuses += entries(result.standardOutput).map { $0["status"] as? String }
            #expect(result.exitCode == (shard == "1/2" ? 1 : 0), "\(result.standardError)")
        }
        #expect(statuses == ["done", "done", "failed"])
        #expect(try manifest(out, "manifest-0-of-2.jsonl").compactMap { $0["input"] as? String } == [clip.path, clip.path])
        let plan = work.appendingPathComponent("plan.json")
        try #"{"input": "clip.wav", "output": "../../escaped.wav", \#(masked)}"#.write(to: plan, atomically: true, encoding: .utf8)
        let single = work.appendingPathComponent("single-edit.wav")
        let escaped = try CommandRunner.run("auffusion", ["edit", plan.path, "--model", model.path])
        #expect(escaped.exitCode == 1 && escaped.standardError.contains("outside the output folder"))
        // The single run with the line's seed gives the batch's bytes.
        #expect(try CommandRunner.run("auffusion", ["edit", plan.path, "-o", single.path, "--seed", "5", "--model", model.path]).exitCode == 0)
        #expect(try Data(contentsOf: single) == Data(contentsOf: out.appendingPathComponent("b/edited.wav")))
    }
}
