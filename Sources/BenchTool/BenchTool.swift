import ArgumentParser
import AudioDSP
import Benchmarks
import Foundation
import Toolkit

/// `auffusion-bench`: times the compute-heavy parts on this machine, for the `make bench*` targets
/// (docs/build.md), which print the times beside the Python reference's. A developer's tool, kept
/// out of the `auffusion` command users run; its `--json` record is the CLI's (docs/cli.md).
@main
struct BenchTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auffusion-bench",
        abstract: "Time the compute-heavy parts on this machine.",
        subcommands: [KernelBenchCommand.self, UNetBenchmark.self, VAEDecodeBenchmark.self, VAEEncodeBenchmark.self,
                      TextEncoderBenchmark.self, VocoderBenchmark.self],
        defaultSubcommand: KernelBenchCommand.self
    )

    /// Runs the command; a failure is one `error:` line, exit 2 for a usage error and 1 otherwise.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            guard code != .success else {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let line = message(for: error).split(whereSeparator: \.isNewline).joined(separator: " ")
            FileHandle.standardError.write(Data("error: \(line)\n".utf8))
            Foundation.exit(code == .validationFailure ? 2 : 1)
        }
    }
}

/// `--json`: the run's record on stdout instead of a line of text.
struct JSONOption: ParsableArguments {
    @Flag(help: "Print one JSON record of the run on stdout (docs/cli.md).")
    var json = false

    /// When the command started, for the record's timings.
    let started = Date()

    enum CodingKeys: CodingKey { case json }
}

/// `auffusion-bench [kernels]`: the audio front end and the compute kernels.
struct KernelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time the audio front end and the compute kernels (median of several runs after a warm-up)."
    )

    @OptionGroup var output: JSONOption

    @Option(help: "Timed runs per benchmark.")
    var repetitions = 5

    @Option(help: "Run only the benchmarks whose name contains this text.")
    var filter: String?

    @Option(help: "The clip for the audio benchmarks (default: a built-in 10 s 44.1 kHz stereo signal).")
    var clip: String?

    func run() throws {
        let source = try clip.map { try AudioFile.read(URL(fileURLWithPath: $0)) } ?? KernelBenchmarks.benchmarkClip()
        let results = try KernelBenchmarks(repetitions: repetitions, filter: filter).run(on: source)
        guard output.json else {
            return results.forEach { print(String(format: "%-24@ %10.2f ms", $0.name, $0.seconds * 1000)) }
        }
        print(try KernelBenchmarks.record(results, clip: clip.map(URL.init(fileURLWithPath:)), started: output.started).jsonLine())
    }
}
