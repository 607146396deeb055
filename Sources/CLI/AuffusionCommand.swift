import ArgumentParser
import Compute
import FileOutput
import Foundation

/// The `auffusion` command-line tool: generation and editing of audio with the Auffusion
/// diffusion pipeline, its analysis and resynthesis.
///
/// Every command behaves the same way (docs/cli.md): a failure prints one `error: …` line on
/// stderr and exits 1; a usage error (an unknown flag, a bad value) exits 2; an interrupted run
/// exits 130 and leaves no temporary file behind; `--json` prints one ``RunRecord`` on stdout.
@main
struct AuffusionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auffusion",
        abstract: "Text-guided audio generation and editing with Auffusion, on the CPU.",
        version: "auffusion \(toolVersion)",
        subcommands: [GenerateCommand.self, TransferCommand.self, InpaintCommand.self, SwapCommand.self, RefineCommand.self,
                      ReweightCommand.self, EditCommand.self, InvertCommand.self, AttentionCommand.self, ServeCommand.self,
                      TokensCommand.self, SpectrogramCommand.self, VocodeCommand.self]
    )

    /// The toolkit's version.
    static let toolVersion = "0.8.0"

    static func main() async {
        PendingFiles.shared.removeOnInterrupt()
        // Past a file-size limit (`ulimit -f`) a write then fails with EFBIG and becomes one
        // `error:` line, its temporary file removed, instead of SIGXFSZ ending the process.
        signal(SIGXFSZ, SIG_IGN)
        do {
            let arguments = Array(CommandLine.arguments.dropFirst())
            try refuseHelpOfUnknownCommand(arguments)
            if let isa = InstructionSet.unknownRequest(in: ProcessInfo.processInfo.environment) {
                throw ValidationError("AUFFUSION_ISA is \"\(isa)\"; give one of \(InstructionSet.allCases.map(\.description).joined(separator: ", ")), or leave it unset")
            }
            var command = try parseAsRoot(CommandLineArguments.joiningNegativeValues(arguments))
            if var command = command as? any AsyncParsableCommand {
                try await command.run()
            } else {
                try command.run()
            }
        } catch {
            exit(reporting: error)
        }
    }

    /// `help NAME` for a command that does not exist, which argument-parser answers with the
    /// tool's own help and exit code 0, is a usage error naming the commands there are.
    private static func refuseHelpOfUnknownCommand(_ arguments: [String]) throws {
        guard arguments.first == "help", arguments.count > 1, !arguments[1].hasPrefix("-") else { return }
        let names = configuration.subcommands.compactMap { $0.configuration.commandName }
        guard !(names + ["help"]).contains(arguments[1]) else { return }
        throw ValidationError("no command \"\(arguments[1])\"; the commands are \(names.joined(separator: ", "))")
    }

    /// Prints help and `--version` as asked, and any other error as one `error:` line.
    private static func exit(reporting error: any Error) -> Never {
        let code = exitCode(for: error)
        if code == .success {
            print(fullMessage(for: error))
            Foundation.exit(0)
        }
        let usage = code == .validationFailure || error is ValidationError
        let message = usage ? message(for: error) : ErrorLine.describe(error)
        Console.error("error: \(ErrorLine.oneLine(message))\n")
        Foundation.exit(usage ? 2 : (error as? ExitCode)?.rawValue ?? 1)
    }
}

/// Argument rewriting before parsing.
enum CommandLineArguments {
    /// `--option -0.1` as `--option=-0.1` (and `-n -1` as `-n=-1`): argument-parser reads a value
    /// that starts with `-` as another option, so negative numbers (a weight, a strength to refuse)
    /// would need `=`.
    static func joiningNegativeValues(_ arguments: [String]) -> [String] {
        var joined: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            if isOption(argument), index + 1 < arguments.count, isNegativeNumber(arguments[index + 1]) {
                joined.append("\(argument)=\(arguments[index + 1])")
                index += 2
            } else {
                joined.append(argument)
                index += 1
            }
        }
        return joined
    }

    /// `--name` without a value, or a one-letter `-x`.
    private static func isOption(_ text: String) -> Bool {
        if text.hasPrefix("--") { return text != "--" && !text.contains("=") }
        return text.count == 2 && text.hasPrefix("-") && text.last?.isLetter == true
    }

    private static func isNegativeNumber(_ text: String) -> Bool {
        text.hasPrefix("-") && text.dropFirst().first.map { $0.isNumber || $0 == "." } == true
    }
}
