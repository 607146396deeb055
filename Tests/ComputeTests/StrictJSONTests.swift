import Compute
import Foundation
import Testing
import TestSupport

/// The one JSON reader of the toolkit: plain JSON plus Python's non-finite literals, nothing else.
@Suite("Strict JSON and input files")
struct StrictJSONTests {
    struct Sample: Decodable, Equatable {
        var a: Double
        var b: [Int]?
    }

    @Test("plain JSON decodes; Python's -Infinity, Infinity and NaN decode into numbers")
    func accepted() throws {
        #expect(try StrictJSON.decode(Sample.self, from: Data(#" {"a": 1.5e2, "b": [1, -2]} "#.utf8)) == Sample(a: 150, b: [1, -2]))
        #expect(try StrictJSON.decode(Sample.self, from: Data(#"{"a": -Infinity}"#.utf8)).a == -.infinity)
        #expect(try StrictJSON.decode(Sample.self, from: Data(#"{"a": NaN}"#.utf8)).a.isNaN)
        #expect(try StrictJSON.decode([String: String].self, from: Data(#"{"NaN": "Infinity \" NaN"}"#.utf8)) == ["NaN": "Infinity \" NaN"])
    }

    @Test("JSON5 and malformed text are refused with one line, never a crash", arguments: [
        "{\"\":\"\",\u{FC} _dif",                 // the input that crashed Foundation's JSON5 scanner
        "{a: 1}", "{\"a\": 1,}", "[1, 2,]", "{\"a\": 1} // note", "/* c */ {\"a\": 1}", "{\"a\": 0x10}",
        "{\"a\": .5}", "{\"a\": 01}", "{\"a\": +1}", "{\"a\": 'x'}", "{\"a\": \"\u{1}\"}", "{\"a\": \"\\x\"}",
        "{\"a\": 1} {\"b\": 2}", "", "{\"a\": Infinityy}", "{\"a\": \"\\ud800\"}",
    ])
    func refused(_ text: String) {
        #expect(throws: StrictJSON.Error.self) { try StrictJSON.decode([String: Int].self, from: Data(text.utf8)) }
    }

    @Test("documents without Python's literals refuse NaN and Infinity; numbers past Double's range are refused where they stand")
    func numbers() throws {
        for text in [#"{"a": NaN}"#, #"{"a": -Infinity}"#] {
            let error = try #require(throws: StrictJSON.Error.self) { try StrictJSON.normalized(Data(text.utf8), allowsNonFinite: false) }
            #expect(error.reason.hasPrefix("not plain JSON at byte 6: ") && error.reason.hasSuffix("is not a JSON number"))
        }
        #expect(try StrictJSON.normalized(Data(#"{"a": "NaN"}"#.utf8), allowsNonFinite: false) == Data(#"{"a": "NaN"}"#.utf8))
        for text in [#"{"a": 1e400}"#, #"{"a": -2.5E+309}"#, #"{"a": "# + String(repeating: "9", count: 400) + "}"] {
            let error = try #require(throws: StrictJSON.Error.self) { try StrictJSON.normalized(Data(text.utf8)) }
            #expect(error.reason.hasPrefix("not plain JSON at byte 6: the number ") && error.reason.hasSuffix("is out of range"))
        }
        #expect(throws: Never.self) { try StrictJSON.normalized(Data("[1e-400, 1.7e308, \(String(repeating: "9", count: 300))]".utf8)) }
    }

    @Test("the exact JSON5 reproduction, as bytes, is refused")
    func json5Reproduction() {
        let bytes: [UInt8] = Array(#"{"":"","#.utf8) + [0xFC] + Array(" _dif".utf8)
        #expect(throws: StrictJSON.Error.self) { try StrictJSON.normalized(Data(bytes)) }
    }

    @Test("a key given twice in one object is refused, also when escaped differently")
    func duplicateKeys() throws {
        for text in [#"{"a": 1, "a": 2}"#, #"{"x": {"a": 1, "\u0061": 2}}"#] {
            let error = try #require(throws: StrictJSON.Error.self) { try StrictJSON.normalized(Data(text.utf8)) }
            #expect(error.reason.contains("appears twice"))
        }
        #expect(try StrictJSON.decode([[String: Int]].self, from: Data(#"[{"a": 1}, {"a": 2}]"#.utf8)).count == 2)
    }

    @Test("nesting deeper than the limit is refused without recursion trouble")
    func depth() {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(throws: StrictJSON.Error.self) { try StrictJSON.normalized(Data(deep.utf8)) }
        let fine = String(repeating: "[", count: 64) + String(repeating: "]", count: 64)
        #expect(throws: Never.self) { try StrictJSON.normalized(Data(fine.utf8)) }
    }

    @Test("a FIFO, a folder, a device and an oversized file are refused without blocking")
    func specialInputs() throws {
        let folder = try Fixtures.temporaryDirectory()
        let fifo = folder.appendingPathComponent("config.json")
        #expect(mkfifo(fifo.path, 0o600) == 0)
        for url in [fifo, folder, URL(fileURLWithPath: "/dev/zero")] {
            let error = try #require(throws: InputFile.Error.self) { try InputFile.contents(of: url, limit: 1000) }
            guard case .notRegular = error else { Issue.record("\(error)"); continue }
        }
        let big = folder.appendingPathComponent("big.json")
        try Data(count: 2000).write(to: big)
        #expect(throws: InputFile.Error.tooLarge(path: big.path, size: 2000, limit: 1000)) {
            try InputFile.contents(of: big, limit: 1000)
        }
        #expect(throws: NumPyFile.Error.self) { try NumPyFile.read(fifo) }
    }

    @Test("echoed text is cut to 200 characters with its length")
    func abbreviation() {
        #expect("short".abbreviated() == "short")
        let long = String(repeating: "x", count: 40_000_000).abbreviated()
        #expect(long.count < 240 && long.hasSuffix("… (40000000 characters)"))
    }
}
