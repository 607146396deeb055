import Foundation

/// Runs a built executable of this package (the `auffusion` CLI, the examples) and captures
/// its output, as argument-parser's `requireExecuteCommand` does for its examples.
public struct CommandResult: Sendable {
    public var exitCode: Int32
    public var standardOutput: String
    public var standardError: String
}

public enum CommandRunner {
    /// The folder holding the built products, found beside the running test binary.
    public static func productsDirectory() -> URL? {
        let root = Fixtures.root.deletingLastPathComponent().deletingLastPathComponent()
        let candidates = [
            URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent(),
            Bundle.main.bundleURL.deletingLastPathComponent(),
            Bundle.main.bundleURL,
            root.appendingPathComponent(".build/release"),
            root.appendingPathComponent(".build/debug"),
        ]
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.appendingPathComponent("auffusion").path) }
    }

    /// Runs `product` with `arguments`, waiting for it to exit.
    public static func run(_ product: String, _ arguments: [String],
                           environment: [String: String] = [:]) throws -> CommandResult {
        guard let folder = productsDirectory() else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSLocalizedDescriptionKey: "built products not found"])
        }
        let process = Process()
        process.executableURL = folder.appendingPathComponent(product)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = Pipe(), error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return CommandResult(exitCode: process.terminationStatus,
                             standardOutput: String(decoding: outputData, as: UTF8.self),
                             standardError: String(decoding: errorData, as: UTF8.self))
    }
}
