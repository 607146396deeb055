import Foundation
import Models

extension FuzzTarget {
    /// The embedded model's tokenizer folder (this checkout's copy).
    static let tokenizerFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Sources/Pipeline/Resources/auffusion-mini/tokenizer").standardized

    /// The embedded model's tokenizer, loaded once.
    static let embeddedTokenizer = try? CLIPTokenizer(contentsOf: tokenizerFolder)

    /// A prompt, as every command tokenizes it: the length limits first, then ids, words and
    /// the token positions of its first word, in both tokenizer modes' pre-tokenization.
    static let prompt = FuzzTarget(name: "prompt", summary: "prompts", prepare: { _ = embeddedTokenizer }) { input in
        let prompt = String(decoding: input, as: UTF8.self)
        guard let tokenizer = embeddedTokenizer, (try? CLIPTokenizer.validate(prompt: prompt)) != nil else { return }
        _ = tokenizer.encode(prompt)
        let words = tokenizer.words(in: prompt)
        if let first = words.first { _ = tokenizer.tokenPositions(of: first.text, in: prompt) }
    }

    /// Tokenizer files: the input is `vocab.json`, a 0 byte, `merges.txt`, and optionally a 0
    /// byte and `tokenizer_config.json`.
    static let tokenizerFiles = FuzzTarget(name: "tokenizer-files", summary: "vocab.json + merges.txt + tokenizer_config.json") { input in
        let parts = input.split(separator: 0, maxSplits: 2, omittingEmptySubsequences: false)
        _ = Scratch.file("vocab.json", parts[0])
        _ = Scratch.file("merges.txt", parts.count > 1 ? parts[1] : Data())
        let settings = Scratch.folder.appendingPathComponent("tokenizer_config.json")
        if parts.count > 2 { _ = Scratch.file("tokenizer_config.json", parts[2]) } else { try? FileManager.default.removeItem(at: settings) }
        guard let tokenizer = try? CLIPTokenizer(contentsOf: Scratch.folder) else { return }
        _ = tokenizer.encode("a dog barks in the rain, 1234 times!")
    }
}
