import ArgumentParser
import AudioDSP
import Benchmarks
import Foundation
import Toolkit

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

    @OptionGroup var report: ReportOptions

    @Option(help: "Timed runs per benchmark.")
    var repetitions = 5

    @Option(help: "Run only the benchmarks whose name contains this text.")
    var filter: String?

    @Option(help: "The clip for the audio benchmarks (default: a built-in 10 s 44.1 kHz stereo signal).")
    var clip: String?

    func run() throws {
        let source = try clip.map { try AudioFile.read(URL(fileURLWithPath: $0)) } ?? KernelBenchmarks.benchmarkClip()
        let results = try KernelBenchmarks(repetitions: repetitions, filter: filter).run(on: source)
        guard report.json else {
            return results.forEach { print(String(format: "%-24@ %10.2f ms", $0.name, $0.seconds * 1000)) }
        }
        try KernelBenchmarks.record(results, clip: clip.map(URL.init(fileURLWithPath:)), started: report.started).emit(report)
    }
}
