import ArgumentParser
import Foundation
import Toolkit

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
        let listing = try TokenListing(prompt: prompt, model: model.url())
        if report.json { return try listing.record(started: report.started).emit(report) }
        listing.lines.forEach { print($0) }
        if listing.droppedTokenCount > 0 { report.warn("\(listing.droppedTokenCount) tokens past the 77th were dropped") }
    }
}
