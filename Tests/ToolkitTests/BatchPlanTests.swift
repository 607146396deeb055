import Editing
import FileOutput
import Foundation
import Pipeline
import Testing
import Toolkit

@Suite("A batch is laid out as tasks: names, seeds, shards and confined outputs")
struct BatchPlanTests {
    let folder: URL

    init() throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("batch-plan-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    }

    private func plan(_ lines: [String], takes: Takes = .one) throws -> BatchPlan<BatchItem> {
        let file = folder.appendingPathComponent("batch.jsonl")
        try lines.joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        return try BatchPlan(file: file, folder: OutputFolder(folder.appendingPathComponent("out")), takes: takes)
    }

    private func names(_ plan: BatchPlan<BatchItem>) -> [String?] {
        plan.tasks.map { $0.output.map { String($0.path.dropFirst(folder.path.count + 5)) } }
    }

    @Test("the default name is the 0-based line number; takes add -001, -002 before the extension")
    func naming() throws {
        let lines = [#"{"prompt": "a dog", "output": "dogs/dog.flac"}"#, "", #"{"prompt": "rain"}"#, #"{"prompt": "x", "output": "noext"}"#]
        #expect(names(try plan(Array(lines.prefix(3)))) == ["dogs/dog.flac", "000002.wav"])
        #expect(names(try plan(Array(lines.prefix(3)), takes: try Takes(count: 2)))
                    == ["dogs/dog-001.flac", "dogs/dog-002.flac", "000002-001.wav", "000002-002.wav"])
        #expect(BatchPlan<BatchItem>.name("noext", line: 3, take: 0, of: 2) == "noext-001")
        #expect(BatchItem.fileName(for: "A dog, barking!  (far away)") == "a-dog-barking-far-away.wav")
        #expect(BatchItem.fileName(for: "") == "unconditional.wav")
        #expect(BatchItem.fileName(for: "狗") == "prompt.wav")
        // An output without an audio extension is a failed task, not a failed batch.
        let task = try plan([lines[3]]).tasks[0]
        #expect(task.output == nil && (try? task.item.get()) == nil)
    }

    @Test("task i = non-blank line × takes + take; the shards of any count are disjoint and cover every task")
    func shards() throws {
        let plan = try plan((0..<7).map { #"{"prompt": "p\#($0)"}"# } + ["", #"{"prompt": "last"}"#], takes: try Takes(count: 3))
        #expect(plan.tasks.map(\.number) == Array(0..<24))
        #expect(plan.tasks.last?.line == 8)
        // A blank line after every line: two shards still take half each.
        let spaced = try self.plan((0..<6).flatMap { [#"{"prompt": "p\#($0)"}"#, ""] })
        #expect((0..<2).map { spaced.tasks(in: Shard(index: $0, count: 2)).count } == [3, 3])
        for count in 1...5 {
            let numbers = (0..<count).flatMap { plan.tasks(in: Shard(index: $0, count: count)).map(\.number) }
            #expect(numbers.sorted() == plan.tasks.map(\.number), "\(count) shards")
        }
    }

    @Test("seeds: the line's own + take, else the list, else --seed + take, else drawn (nil)")
    func seeds() throws {
        let lines = [#"{"prompt": "a", "seed": 100}"#, #"{"prompt": "b"}"#]
        #expect(try plan(lines, takes: try Takes(seeds: "1,5-6")).tasks.map(\.seed) == [100, 101, 102, 1, 5, 6])
        #expect(try plan(lines, takes: try Takes(count: 2, baseSeed: 7)).tasks.map(\.seed) == [100, 101, 7, 8])
        #expect(try plan(lines, takes: try Takes(count: 2)).tasks.map(\.seed) == [100, 101, nil, nil])
    }

    @Test("--seeds lists and ranges; malformed lists, repeats and huge ranges are refused")
    func seedLists() throws {
        #expect(try Takes(seeds: "1,2,5-9").seeds == [1, 2, 5, 6, 7, 8, 9])
        #expect(try Takes(seeds: "3").count == 1)
        for bad in ["", "1,", "5-", "-5", "9-5", "1,1", "a", "1-2-3", "0-18446744073709551615", "1.5"] {
            #expect(throws: BatchError.self, "\(bad)") { try Takes(seeds: bad) }
        }
        #expect(throws: BatchError.invalidTakeCount(0)) { try Takes(count: 0) }
        #expect(throws: BatchError.invalidTakeCount(Takes.maximumCount + 1)) { try Takes(count: Takes.maximumCount + 1) }
    }

    @Test("outputs that leave the folder by .., an absolute path or a symbolic link fail their line; inside is fine")
    func escapes() throws {
        let out = folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: out.appendingPathComponent("link"), withDestinationURL: folder)
        let outputs = ["../escaped.wav", "/tmp/elsewhere.wav", "link/x.wav", "a/../../b.wav", "a/../ok.wav", out.path + "/abs.wav", "."]
        let plan = try plan(outputs.map { #"{"prompt": "p", "output": "\#($0)"}"# })
        #expect(names(plan) == [nil, nil, nil, nil, "ok.wav", "abs.wav", nil])
        if case .failure(let failure) = plan.tasks[0].item {
            #expect(failure.description.contains("outside the output folder"))
        } else {
            Issue.record("../escaped.wav was accepted")
        }
    }

    @Test("an output that is a symbolic link to a file outside fails its line: the write would go through it")
    func linkedOutput() throws {
        let out = folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        let victim = folder.appendingPathComponent("victim.wav")
        try Data("keep".utf8).write(to: victim)
        try FileManager.default.createSymbolicLink(at: out.appendingPathComponent("000000.wav"), withDestinationURL: victim)
        try FileManager.default.createSymbolicLink(at: out.appendingPathComponent("inside.wav"),
                                                   withDestinationURL: out.appendingPathComponent("target.wav"))
        try Data("old".utf8).write(to: out.appendingPathComponent("target.wav"))
        let laidOut = try plan([#"{"prompt": "p"}"#, #"{"prompt": "q", "output": "inside.wav"}"#])
        #expect(names(laidOut) == [nil, "inside.wav"])
    }

    @Test("an output that another output needs as its folder refuses the batch; a file where a folder is needed fails its line")
    func outputsAsFolders() throws {
        #expect(throws: BatchError.outputHoldsOutput(path: OutputFolder.resolvedPath(folder.appendingPathComponent("out/d.wav/e.wav")),
                                                     folder: OutputFolder.resolvedPath(folder.appendingPathComponent("out/d.wav")),
                                                     lines: [1, 3])) {
            try plan([#"{"prompt": "a", "output": "d.wav"}"#, #"{"prompt": "b"}"#, #"{"prompt": "c", "output": "d.wav/e.wav"}"#])
        }
        let out = folder.appendingPathComponent("out")
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        try Data("an earlier output".utf8).write(to: out.appendingPathComponent("f.wav"))
        let laidOut = try plan([#"{"prompt": "a", "output": "f.wav/g/h.wav"}"#, #"{"prompt": "b", "output": "f.wav"}"#])
        #expect(names(laidOut) == [nil, "f.wav"])
        if case .failure(let failure) = laidOut.tasks[0].item {
            #expect(failure.description.contains("needs the folder \(out.path)/f.wav, which is a file"))
        }
    }

    @Test("names are compared byte for byte, as Linux does: composed and decomposed café are two files")
    func unicodeNames() throws {
        let composed = "caf\u{E9}.wav", decomposed = "cafe\u{301}.wav"
        #expect(composed == decomposed)   // Swift's String equality, which the check must not use
        let laidOut = try plan([#"{"prompt": "a", "output": "\#(composed)"}"#, #"{"prompt": "b", "output": "\#(decomposed)"}"#,
                                #"{"prompt": "c", "output": "caf\#u{E9}/x.wav"}"#, #"{"prompt": "d", "output": "cafe\#u{301}/x.wav"}"#])
        #expect(laidOut.tasks.compactMap(\.output).count == 4)
    }

    @Test("two lines with the same output refuse the whole batch before anything runs")
    func duplicates() throws {
        let lines = [#"{"prompt": "a", "output": "x.wav"}"#, #"{"prompt": "b"}"#, #"{"prompt": "c", "output": "./sub/../x.wav"}"#]
        #expect(throws: BatchError.duplicateOutput(path: folder.appendingPathComponent("out/x.wav").path, lines: [1, 3])) {
            try plan(lines)
        }
        #expect(throws: BatchError.self) { try plan([#"{"prompt": "a", "output": "a.wav"}"#, #"{"prompt": "b", "output": "a.wav"}"#], takes: try Takes(count: 2)) }
    }

    @Test("a line that does not decode fails alone, naming the key or the reason")
    func badLines() throws {
        let plan = try plan([#"{"prompt": "a"}"#, #"{"promt": "typo"}"#, "not json", #"{"prompt": 3}"#])
        let reasons = plan.tasks.map { task -> String? in
            if case .failure(let failure) = task.item { return failure.description }
            return nil
        }
        #expect(reasons[0] == nil)
        #expect(reasons[1]?.contains("unknown key \"promt\"") == true)
        #expect(reasons[2]?.contains("not plain JSON at byte 0") == true)
        #expect(reasons[3]?.contains("\"prompt\" (string)") == true)
    }

    @Test("a line's \"speed\" sets its run's fast presets over the defaults; an unknown key in it fails the line")
    func speedOfALine() throws {
        var defaults = GenerationRequest(prompt: "")
        defaults.speed = .fast
        let line = try BatchItem(json: Data(#"{"prompt": "a", "speed": {"cache_interval": 1}}"#.utf8))
        #expect(line.request(defaults: defaults).speed == SpeedOptions(cacheInterval: 1))
        #expect(try BatchItem(json: Data(#"{"prompt": "a"}"#.utf8)).request(defaults: defaults).speed == .fast)
        #expect {
            _ = try BatchItem(json: Data(#"{"prompt": "a", "speed": {"interval": 3}}"#.utf8))
        } throws: { error in
            "\(error)".contains(#"speed: unknown key "interval"; known keys: guided_fraction, cache_interval, cache_branch"#)
        }
    }

    @Test("lines are plain JSON: a key twice, JSON5, NaN, deep nesting, a huge number or a line past the limit fails alone, with its reason")
    func strictLines() throws {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let huge = #"{"prompt": ""# + String(repeating: "a ", count: 600_000) + #""}"#
        let cases: [(String, String)] = [
            (#"{"prompt": "a", "output": "x.wav", "output": "../y.wav"}"#, #"at byte 35: the key "output" appears twice in one object"#),
            (#"{prompt: "a"}"#, "at byte 1: expected a quoted key"),
            (#"{"prompt": "a",}"#, "at byte 15: expected a quoted key"),
            (#"{"prompt": "a"} // a comment"#, "unexpected text after the value"),
            (#"{"prompt": "a", "guidance": NaN}"#, "NaN is not a JSON number"),
            (#"{"prompt": "a", "steps": 1e400}"#, "the number 1e400 is out of range"),
            (deep, "nested too deeply (more than 64 levels)"),
            (huge, "the line is 1200014 bytes; a batch line is limited to 1048576 bytes"),
        ]
        let started = Date()
        let tasks = try plan([#"{"prompt": "fine"}"#] + cases.map(\.0)).tasks
        #expect(Date().timeIntervalSince(started) < 5)
        #expect((try? tasks[0].item.get())?.prompt == "fine")
        for (task, (_, reason)) in zip(tasks.dropFirst(), cases) {
            guard case .failure(let failure) = task.item else { Issue.record("accepted: \(reason)"); continue }
            #expect(failure.description.contains(reason), "\(failure)")
        }
        for text in [#"{"seed": 1, "seed": 2, "passes": []}"#, #"{"seed": NaN, "passes": []}"#, deep] {
            #expect(throws: (any Error).self) { try EditBatchLine(json: Data(text.utf8)) }
        }
    }

    @Test("a CRLF file has one line per CRLF; blank lines, also of spaces, tabs or a lone CR, are skipped")
    func lineEnds() throws {
        let file = folder.appendingPathComponent("crlf.jsonl")
        try Data("{\"prompt\": \"a\"}\r\n \t\r\n\r\n{\"prompt\": \"b\"}\r\n".utf8).write(to: file)
        let plan = try BatchPlan<BatchItem>(file: file, folder: OutputFolder(folder), takes: .one)
        #expect(plan.tasks.map(\.line) == [0, 3])
        #expect(plan.tasks.compactMap { try? $0.item.get().prompt } == ["a", "b"])
    }

    @Test("bounded: too many tasks, a FIFO or a file past the limit are refused before anything is allocated; echoed keys are cut")
    func bounds() throws {
        let lines = (0...100).map { #"{"prompt": "p\#($0)"}"# }
        #expect(throws: BatchError.tooManyTasks(1_010_000, limit: 1_000_000)) { try plan(lines, takes: try Takes(count: 10_000)) }
        let fifo = folder.appendingPathComponent("fifo.jsonl")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        #expect(throws: (any Error).self) { try BatchPlan<BatchItem>(file: fifo, folder: OutputFolder(folder), takes: .one) }
        let key = String(repeating: "k", count: 100_000)
        let task = try plan([#"{"\#(key)": 1}"#]).tasks[0]
        if case .failure(let failure) = task.item { #expect(failure.description.count < 300) } else { Issue.record("accepted") }
    }

    @Test("an edit line is a plan plus a seed; the plan's own checks still apply")
    func editLines() throws {
        let line = try EditBatchLine(json: Data(#"{"input": "a.wav", "seed": 9, "passes": [{"prompt": "x", "start": {"from": "clip"}}]}"#.utf8))
        #expect(line.seed == 9 && line.plan.input == "a.wav" && line.output == nil)
        #expect(throws: (any Error).self) { try EditBatchLine(json: Data(#"{"passes": [], "strenght": 1}"#.utf8)) }
        #expect(throws: (any Error).self) { try EditBatchLine(json: Data(#"{"seed": -1, "passes": []}"#.utf8)) }
        // The seed reads as a generation line's does: null is none, true and 2.5 are refused.
        let pass = #""passes": [{"prompt": "x", "start": {"from": "clip"}}]"#
        #expect(try EditBatchLine(json: Data(#"{"seed": null, \#(pass)}"#.utf8)).seed == nil)
        #expect(try BatchItem(json: Data(#"{"prompt": "x", "seed": null}"#.utf8)).seed == nil)
        for seed in ["true", "2.5"] {
            #expect(throws: (any Error).self, "\(seed)") { try EditBatchLine(json: Data(#"{"seed": \#(seed), \#(pass)}"#.utf8)) }
            #expect(throws: (any Error).self, "\(seed)") { try BatchItem(json: Data(#"{"prompt": "x", "seed": \#(seed)}"#.utf8)) }
        }
    }
}
