import Foundation
import Models
import Testing
import TestSupport

/// Truncation reports, thread safety, the tokenizer files' optional parts, and the errors for
/// missing or damaged files.
@Suite("CLIP tokenizer files and behaviour")
struct CLIPTokenizerTests {
    /// A folder with a tiny vocabulary: `files` overrides or adds files, `nil` removes one.
    private func folder(_ files: [String: String?] = [:]) throws -> URL {
        let url = try Fixtures.temporaryDirectory()
        var contents: [String: String?] = [
            "vocab.json": #"{"a": 0, "b": 1, "a</w>": 2, "b</w>": 3, "ab</w>": 4, "!</w>": 5, "<|startoftext|>": 6, "<|endoftext|>": 7}"#,
            "merges.txt": "#version: 0.2\na b</w>\n",
        ]
        contents.merge(files) { _, new in new }
        for case let (name, text?) in contents { try Data(text.utf8).write(to: url.appendingPathComponent(name)) }
        return url
    }

    @Test("a model_max_length beyond ±10⁶ means no limit (77), and a huge negative one does not trap")
    func extremeMaxLength() throws {
        for value in ["-1e300", "1e30", "1e300"] {
            let tokenizer = try CLIPTokenizer(contentsOf: try folder(["tokenizer_config.json": #"{"model_max_length": \#(value)}"#]))
            #expect(tokenizer.maxLength == 77)
        }
    }

    @Test("a prompt of 75 tokens fits; 76 or more are cut to BOS + 75 + EOS and the loss is reported")
    func truncation() throws {
        let tokenizer = try CLIPFixtures.tokenizer()
        let fits = tokenizer.encode(Array(repeating: "dog", count: 75).joined(separator: " "))
        #expect(fits.ids.count == 77 && fits.length == 77 && !fits.wasTruncated && fits.droppedTokenCount == 0)
        let long = tokenizer.encode(Array(repeating: "dog", count: 80).joined(separator: " "))
        #expect(long.ids.count == 77 && long.wasTruncated && long.droppedTokenCount == 5)
        #expect(long.ids.first == 49406 && long.ids.last == 49407 && long.ids[75] == fits.ids[75])
        let unpadded = tokenizer.encode(Array(repeating: "dog", count: 80).joined(separator: " "), padding: .none)
        #expect(unpadded.ids == long.ids && unpadded.droppedTokenCount == 5)
        let empty = tokenizer.encode("", padding: .none)
        #expect(empty.ids == [49406, 49407] && empty.length == 2 && !empty.wasTruncated)
    }

    @Test("one tokenizer shared by many tasks gives the same ids as one task (the BPE cache is locked)")
    func concurrentUse() async throws {
        let tokenizer = try CLIPTokenizer(contentsOf: CLIPFixtures.tokenizerFolder)   // fresh, empty cache
        let reference = try CLIPFixtures.tokenizer()
        let texts = try CLIPFixtures.captions().captions.prefix(400).map(\.text)
        let expected = texts.map { reference.encode($0, padding: .none).ids }
        let results = await withTaskGroup(of: [[Int]].self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var ids = [[Int]](repeating: [], count: texts.count)
                    for step in texts.indices {
                        let index = (step + worker * 50) % texts.count   // each task in another order
                        ids[index] = tokenizer.encode(texts[index], padding: .none).ids
                    }
                    return ids
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.count == 8 && results.allSatisfy { $0 == expected })
    }

    @Test("word positions compare words by code points, as Python does")
    func wordQueryByCodePoints() throws {
        let tokenizer = try CLIPFixtures.tokenizer()
        let prompt = "caf\u{E9} and cafe\u{301}"
        #expect(tokenizer.tokenPositions(of: "caf\u{E9}", in: prompt) == tokenizer.words(in: prompt)[0].tokenPositions)
        #expect(tokenizer.tokenPositions(of: "cafe\u{301}", in: prompt) == tokenizer.words(in: prompt)[2].tokenPositions)
        #expect(tokenizer.words(in: prompt).map(\.tokenPositions) == [[1], [2], [3]])
    }

    @Test("without tokenizer_config.json: CLIP's special tokens and 77 ids")
    func defaults() throws {
        let tokenizer = try CLIPTokenizer(contentsOf: try folder())
        #expect(tokenizer.encode("ab!", padding: .none).ids == [6, 4, 5, 7])
        #expect(tokenizer.encode("ab").ids.count == 77 && tokenizer.padID == 7 && tokenizer.unknownID == 7)
        #expect(tokenizer.encode("c", padding: .none).ids == [6, 7, 7], "an unknown symbol becomes the unknown token")
        let windows = try CLIPTokenizer(contentsOf: try folder(["merges.txt": "#version: 0.2\r\na b</w>\r\n"]))
        #expect(windows.encode("ab!", padding: .none).ids == [6, 4, 5, 7], "CRLF line ends, as Python's text mode reads them")
    }

    @Test("special_tokens_map.json overrides tokenizer_config.json, which sets model_max_length")
    func configurationFiles() throws {
        let tokenizer = try CLIPTokenizer(contentsOf: try folder([
            "tokenizer_config.json": #"{"model_max_length": 5, "pad_token": "a</w>", "bos_token": {"content": "<|startoftext|>", "lstrip": false}}"#,
            "special_tokens_map.json": #"{"pad_token": {"content": "!</w>"}}"#,
        ]))
        #expect(tokenizer.maxLength == 5 && tokenizer.padID == 5)
        #expect(tokenizer.encode("a").ids == [6, 2, 7, 5, 5])
        let long = tokenizer.encode("a b a b a")
        #expect(long.ids == [6, 2, 3, 2, 7] && long.droppedTokenCount == 2)
        let unlimited = try CLIPTokenizer(contentsOf: try folder(["tokenizer_config.json": #"{"model_max_length": 1e30}"#]))
        #expect(unlimited.maxLength == 77)
    }

    @Test("missing vocab.json or merges.txt is an error naming the file")
    func missingFiles() throws {
        for name in ["vocab.json", "merges.txt"] {
            let url = try folder([name: nil])
            #expect(throws: TextEncoderError.missingFile(path: url.appendingPathComponent(name).path, expected: [name])) {
                try CLIPTokenizer(contentsOf: url)
            }
        }
    }

    @Test("damaged files are errors that name the file and what is wrong")
    func corruptFiles() throws {
        let cases: [(String, String, String)] = [
            ("vocab.json", "{\"a\": 0,", "vocab.json"),
            ("vocab.json", #"{"a": "zero"}"#, "vocab.json"),
            ("vocab.json", #"["a", "b"]"#, "vocab.json"),
            ("merges.txt", "#version: 0.2\na b</w>\nab\n", "line 3"),
            ("tokenizer_config.json", #"{"bos_token": 5}"#, "tokenizer_config.json"),
            ("special_tokens_map.json", "not json", "special_tokens_map.json"),
        ]
        for (name, content, mention) in cases {
            let url = try folder([name: content])
            do {
                _ = try CLIPTokenizer(contentsOf: url)
                Issue.record("\(name) with \(content.quoted) loaded")
            } catch let error as TextEncoderError {
                guard case .corrupt(let path, _) = error else { Issue.record("\(name): \(error)"); continue }
                #expect(path == url.appendingPathComponent(name).path)
                #expect(error.description.contains(mention), "\(error)")
            }
        }
    }

    @Test("a special token missing from the vocabulary is an error naming it")
    func missingSpecialToken() throws {
        let url = try folder(["vocab.json": #"{"a</w>": 0, "<|startoftext|>": 1}"#])
        #expect(throws: TextEncoderError.missingSpecialToken(token: "<|endoftext|>", path: url.appendingPathComponent("vocab.json").path)) {
            try CLIPTokenizer(contentsOf: url)
        }
    }
}

/// Bounded work for any text (issue #22): BPE is quadratic in a word's length, so prompts and
/// words have length limits that are checked before tokenizing.
@Suite("Prompt limits")
struct PromptLimitTests {
    @Test("a prompt or a word over the limit is one clear error, found at once")
    func limits() throws {
        let started = Date()
        let word = String(repeating: "a", count: 1 << 20)
        #expect(throws: TextEncoderError.wordTooLong(word: String(repeating: "a", count: 40) + "… (1048576 characters)",
                                                     length: 1 << 20, limit: CLIPTokenizer.maximumWordLength)) {
            try CLIPTokenizer.validate(prompt: "a dog barks " + word)
        }
        let many = Array(repeating: "dog", count: 5000).joined(separator: " ")
        #expect(throws: TextEncoderError.promptTooLong(length: many.unicodeScalars.count, limit: CLIPTokenizer.maximumPromptLength)) {
            try CLIPTokenizer.validate(prompt: many)
        }
        #expect(Date().timeIntervalSince(started) < 10)   // a hang would take hours; generous for sanitizer builds
    }

    @Test("a prompt at both limits tokenizes in bounded time")
    func longestAllowed() throws {
        let tokenizer = try CLIPFixtures.tokenizer()
        let prompt = (0..<9).map { _ in String(repeating: "x", count: CLIPTokenizer.maximumWordLength) }.joined(separator: " ")
        try CLIPTokenizer.validate(prompt: prompt)
        let started = Date()
        _ = tokenizer.encode(prompt)
        #expect(Date().timeIntervalSince(started) < 10)   // a hang would take hours; generous for sanitizer builds
    }
}
