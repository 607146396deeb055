import ArgumentParser
import Benchmarks
import Compute
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

    @Option(help: "The matrix products' precision: float32, or bfloat16 where the CPU has AVX-512 BF16 (float32 elsewhere).")
    var products = ProductPrecision.float32

    @OptionGroup var output: JSONOption

    func validate() throws {
        guard batch >= 1, runs >= 1 else { throw ValidationError("--batch and --runs must be at least 1") }
        guard ModelBenchmark.latentSize(latent) != nil else { throw ValidationError("--latent must look like 32x128") }
    }

    func benchmark(_ model: BenchmarkedModel) -> ModelBenchmark {
        var benchmark = ModelBenchmark(model, config: URL(fileURLWithPath: config))
        (benchmark.batch, benchmark.latent, benchmark.runs, benchmark.products) = (batch, latent, runs, products)
        return benchmark
    }

    /// Times `model` and prints the result, or with `--json` its record.
    func run(_ model: BenchmarkedModel) throws {
        let benchmark = benchmark(model)
        let timing = try benchmark.run()
        guard output.json else {
            return print(String(format: "median %.3f s over %d runs, peak RSS %.0f MiB", timing.median, runs, timing.peakResidentMiB))
        }
        print(try benchmark.record(timing, started: output.started).jsonLine())
    }
}

/// A model benchmark subcommand: `auffusion-bench unet|vae-decode|vae-encode|text-encoder|vocoder`.
protocol ModelBenchmarkCommand: ParsableCommand {
    static var model: BenchmarkedModel { get }
    var options: ModelBenchOptions { get }
}

extension ModelBenchmarkCommand {
    static var configuration: CommandConfiguration {
        CommandConfiguration(commandName: model.rawValue,
                             abstract: "Time one \(model.rawValue) forward on synthetic weights built from a config.json.")
    }

    func run() throws { try options.run(Self.model) }
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

extension ProductPrecision: ExpressibleByArgument {}
