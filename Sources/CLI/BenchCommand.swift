import ArgumentParser
import AudioDSP
import Benchmarks
import Compute
import Foundation

/// `auffusion bench`: times the compute-heavy parts on this machine. `make bench` runs it
/// with `--json` and prints the times beside the Python reference's (scripts/reference/bench.py).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time the compute-heavy parts on this machine.",
        subcommands: [KernelBenchCommand.self, UNetBenchmark.self, VAEDecodeBenchmark.self, VAEEncodeBenchmark.self,
                      TextEncoderBenchmark.self, VocoderBenchmark.self],
        defaultSubcommand: KernelBenchCommand.self
    )
}

/// `auffusion bench [kernels]`: the audio front end and the compute kernels.
struct KernelBenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time the audio front end and the compute kernels (median of several runs after a warm-up)."
    )

    @Flag(help: "Print the results as JSON: {\"results\": [{\"name\": …, \"seconds\": …}]}.")
    var json = false

    @Option(help: "Timed runs per benchmark.")
    var repetitions = 5

    @Option(help: "Run only the benchmarks whose name contains this text.")
    var filter: String?

    @Option(help: "The clip for the audio benchmarks (default: a built-in 10 s 44.1 kHz stereo signal).")
    var clip: String?

    func run() throws {
        let source = try clip.map { try AudioFile.read(URL(fileURLWithPath: $0)) } ?? KernelBenchmarks.benchmarkClip()
        let results = try KernelBenchmarks(repetitions: repetitions, filter: filter).run(on: source)
        if json {
            let entries = results.map { "{\"name\": \"\($0.name)\", \"seconds\": \($0.seconds)}" }
            print("{\"threads\": \(ComputeThreads.count), \"results\": [\(entries.joined(separator: ", "))]}")
        } else {
            for (name, seconds) in results { print(String(format: "%-24@ %10.2f ms", name, seconds * 1000)) }
        }
    }
}
