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

/// `auffusion bench unet`: one U-Net forward (a guided step is batch 2).
struct UNetBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "unet", abstract: "Time one U-Net forward on synthetic weights built from a config.json.")

    @OptionGroup var options: ModelBenchOptions

    func run() throws {
        try reportingErrors {
            let configuration = try ModelFolder.configuration(
                UNetConfiguration.self, in: URL(fileURLWithPath: options.config).deletingLastPathComponent(),
                file: URL(fileURLWithPath: options.config).lastPathComponent)
            let unet = try UNet2DConditionModel(configuration: configuration, parameters: ParameterLoader(.synthetic).root)
            let (height, width) = options.latentSize ?? (32, 128)
            var random = TorchRandomSource(seed: 0)
            let latents = random.normal(shape: [options.batch, configuration.inChannels, height, width])
            let context = random.normal(shape: [options.batch, 77, configuration.crossAttentionDimension])
            let timesteps = [Float](repeating: 981, count: options.batch)
            try options.report { _ = try unet(latents, timesteps: timesteps, context: context) }
        }
    }
}
