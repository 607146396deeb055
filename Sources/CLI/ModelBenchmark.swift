import ArgumentParser
import Compute
import Foundation
import Models

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

    @Flag(help: #"Print one JSON line: {"median_s": …, "runs_s": […], "peak_rss_mib": …}."#)
    var json = false

    func validate() throws {
        guard batch >= 1, runs >= 1 else { throw ValidationError("--batch and --runs must be at least 1") }
        guard latentSize != nil else { throw ValidationError("--latent must look like 32x128") }
    }

    /// `(height, width)` of `--latent`.
    var latentSize: (Int, Int)? {
        let parts = latent.lowercased().split(separator: "x").compactMap { Int($0) }
        return parts.count == 2 && parts.allSatisfy { $0 > 0 } ? (parts[0], parts[1]) : nil
    }

    /// Times `work` (one warm-up, then `runs` runs) and prints the result.
    func report(_ work: () throws -> Void) throws {
        try work()
        var times: [Double] = []
        for _ in 0..<runs {
            let start = DispatchTime.now().uptimeNanoseconds
            try work()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        let median = times.sorted()[times.count / 2]
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        let peak = Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
        if json {
            let runsText = times.map { String(format: "%.4f", $0) }.joined(separator: ", ")
            print(String(format: "{\"median_s\": %.4f, \"runs_s\": [%@], \"peak_rss_mib\": %.0f}", median, runsText, peak))
        } else {
            print(String(format: "median %.3f s over %d runs, peak RSS %.0f MiB", median, runs, peak))
        }
    }
}

/// The networks `auffusion bench` can time on synthetic weights.
enum BenchmarkedModel: String, CaseIterable {
    case unet, vaeDecode = "vae-decode", vaeEncode = "vae-encode", textEncoder = "text-encoder", vocoder

    /// Builds the network from `options.config` and returns one forward pass to time.
    func workload(_ options: ModelBenchOptions) throws -> () throws -> Void {
        let config = URL(fileURLWithPath: options.config)
        let parameters = ParameterLoader(.synthetic).root
        let (height, width) = options.latentSize ?? (32, 128)
        var random = TorchRandomSource(seed: 0)
        switch self {
        case .unet:
            let configuration = try ModelFolder.configuration(UNetConfiguration.self, in: config.deletingLastPathComponent(),
                                                              file: config.lastPathComponent)
            let unet = try UNet2DConditionModel(configuration: configuration, parameters: parameters)
            let latents = random.normal(shape: [options.batch, configuration.inChannels, height, width])
            let context = random.normal(shape: [options.batch, 77, configuration.crossAttentionDimension])
            let timesteps = [Float](repeating: 981, count: options.batch)
            return { _ = try unet(latents, timesteps: timesteps, context: context) }
        case .vaeDecode, .vaeEncode:
            let configuration = try AutoencoderConfiguration(contentsOf: config)
            let vae = try AutoencoderKL(configuration: configuration, parameters: parameters)
            let factor = 1 << (configuration.blockOutChannels.count - 1)
            if self == .vaeDecode {
                let latents = random.normal(shape: [options.batch, configuration.latentChannels, height, width])
                return { _ = try vae.decode(latents) }
            }
            let image = random.normal(shape: [options.batch, configuration.inChannels, height * factor, width * factor])
            return { _ = try vae.encode(image) }
        case .textEncoder:
            let configuration = try CLIPTextConfiguration(contentsOf: config)
            let encoder = CLIPTextModel(configuration: configuration, parameters: parameters)
            let ids = [[Int]](repeating: (0..<77).map { ($0 * 7919) % configuration.vocabularySize }, count: options.batch)
            return { _ = try encoder(ids) }
        case .vocoder:
            let configuration = try HiFiGANConfiguration(contentsOf: config)
            let generator = try HiFiGANGenerator(configuration: configuration, parameters: parameters, norm: .folded)
            // --latent's width is the frame count here: 1000 frames = 10 s.
            let logMel = random.normal(shape: [options.batch, configuration.melBinCount, width]) * 2 + -5
            return { _ = try generator(logMel) }
        }
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
        try options.report(try Self.model.workload(options))
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
