import ArgumentParser
import Foundation
import Models
import Pipeline
import Weights

/// `auffusion tokens`: how a model tokenizes a prompt, and which tokens each word became.
struct TokensCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokens",
        abstract: "Show the tokens of a prompt and the word → token map edits address words by."
    )

    @Argument(help: "The prompt.")
    var prompt: String

    @OptionGroup var model: ModelOptions

    @Flag(help: #"Print {"ids": […], "tokens": […], "words": [{"word": …, "tokens": […]}]}."#)
    var json = false

    func run() throws {
        try reportingErrors {
            let directory = try ModelDirectory(model.url())
            let tokenizer = try TextConditioner.tokenizer(for: directory.text)
            try CLIPTokenizer.validate(prompt: prompt)
            let encoded = tokenizer.encode(prompt, padding: .none)
            let tokens = encoded.ids.map { tokenizer.decode([$0]) }
            let words = tokenizer.words(in: prompt)
            if json {
                let object: [String: Any] = [
                    "ids": encoded.ids, "tokens": tokens, "dropped_tokens": encoded.droppedTokenCount,
                    "words": words.map { ["word": $0.text, "tokens": $0.tokenPositions] as [String: Any] },
                ]
                print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
                return
            }
            for (position, (id, token)) in zip(encoded.ids, tokens).enumerated() {
                print(String(format: "%3d  %6d  %@", position, id, token))
            }
            for word in words { print("\(word.text): \(word.tokenPositions.map(String.init).joined(separator: " "))") }
            if encoded.wasTruncated {
                FileHandle.standardError.write(Data("warning: \(encoded.droppedTokenCount) tokens past the 77th were dropped\n".utf8))
            }
        }
    }
}
