import ArgumentParser
import Benchmarks
import Foundation
import Toolkit

/// The options every model benchmark takes.
struct ModelBenchOptions: ParsableArguments {
    @Option(help: "The model's config.json (its weights are synthetic: no checkpoint is read).")
    var config: String

    @Option(help: "Batch size.")
    var batch = 1

    @Option(help: "Latent size as HxW (the U-Net's and the VAE decoder's input; 32x128 is a 10.24 s clip).")
    var latent = "32x128"

    @Option(help: "Timed runs after one warm-up run.")
    var runs = 3

    @OptionGroup var report: ReportOptions

    func validate() throws {
        guard batch >= 1, runs >= 1 else { throw ValidationError("--batch and --runs must be at least 1") }
        guard latentSize != nil else { throw ValidationError("--latent must look like 32x128") }
    }

    /// `(height, width)` of `--latent`.
    var latentSize: (Int, Int)? {
        let parts = latent.lowercased().split(separator: "x").compactMap { Int($0) }
        return parts.count == 2 && parts.allSatisfy { $0 > 0 } ? (parts[0], parts[1]) : nil
    }

    /// Times `work` (one warm-up, then `runs` runs) and prints the result; with `--json`, a
    /// ``RunRecord`` whose details hold `median_s`, `runs_s` and `peak_rss_mib`.
    func time(_ model: BenchmarkedModel, _ work: () throws -> Void) throws {
        let timing = try BenchmarkTiming(runs: runs, work)
        guard report.json else {
            return print(String(format: "median %.3f s over %d runs, peak RSS %.0f MiB", timing.median, runs, timing.peakResidentMiB))
        }
        var record = RunRecord(command: "bench \(model.rawValue)", elapsed: report.elapsed, input: URL(fileURLWithPath: config))
        record.details = ["median_s": .number(timing.median), "runs_s": .array(timing.runs.map(JSONValue.number)),
                          "peak_rss_mib": .number(timing.peakResidentMiB), "batch": .number(Double(batch)), "latent": .string(latent)]
        try record.emit(report)
    }

    /// One forward pass of `model` to time.
    func workload(_ model: BenchmarkedModel) throws -> () throws -> Void {
        try model.workload(config: URL(fileURLWithPath: config), batch: batch, latent: latentSize ?? (32, 128))
    }
}

/// A model benchmark subcommand: `auffusion bench unet|vae-decode|vae-encode|text-encoder|vocoder`.
protocol ModelBenchmarkCommand: ParsableCommand {
    static var model: BenchmarkedModel { get }
    var options: ModelBenchOptions { get }
}

extension ModelBenchmarkCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: model.rawValue,
                             abstract: "Time one \(model.rawValue) forward on synthetic weights built from a config.json.")
    }

    func run() throws {
        try options.time(Self.model, try options.workload(Self.model))
    }
}

struct UNetBenchmark: ModelBenchmarkCommand {
    static let model = BenchmarkedModel.unet
    @OptionGroup var options: ModelBenchOptions
}

struct VAEDecodeBenchmark: ModelBenchmarkCommand {
    static let model = BenchmarkedModel.vaeDecode
    @OptionGroup var options: ModelBenchOptions
}

struct VAEEncodeBenchmark: ModelBenchmarkCommand {
    static let model = BenchmarkedModel.vaeEncode
    @OptionGroup var options: ModelBenchOptions
}

struct TextEncoderBenchmark: ModelBenchmarkCommand {
    static let model = BenchmarkedModel.textEncoder
    @OptionGroup var options: ModelBenchOptions
}

struct VocoderBenchmark: ModelBenchmarkCommand {
    static let model = BenchmarkedModel.vocoder
    @OptionGroup var options: ModelBenchOptions
}
