import ArgumentParser
import Foundation
import Models
import Pipeline
import Toolkit
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

    @OptionGroup var report: ReportOptions

    func run() throws {
        let directory = try ModelDirectory(model.url())
        let tokenizer = try TextConditioner.tokenizer(for: directory.text)
        try CLIPTokenizer.validate(prompt: prompt)
        let encoded = tokenizer.encode(prompt, padding: .none)
        let tokens = encoded.ids.map { tokenizer.decode([$0]) }
        let words = tokenizer.words(in: prompt)
        if report.json {
            var record = RunRecord(command: "tokens", elapsed: report.elapsed)
            record.prompt = prompt
            record.droppedTokens = encoded.droppedTokenCount
            record.details = [
                "ids": .array(encoded.ids.map { .number(Double($0)) }), "tokens": .array(tokens.map(JSONValue.string)),
                "words": .array(words.map { .object(["word": .string($0.text), "tokens": .array($0.tokenPositions.map { .number(Double($0)) })]) }),
            ]
            return try record.emit(report)
        }
        for (position, (id, token)) in zip(encoded.ids, tokens).enumerated() {
            print(String(format: "%3d  %6d  %@", position, id, token))
        }
        for word in words { print("\(word.text): \(word.tokenPositions.map(String.init).joined(separator: " "))") }
        if encoded.wasTruncated { report.warn("\(encoded.droppedTokenCount) tokens past the 77th were dropped") }
    }
}
