import Compute
import Foundation
import Toolkit

/// One network timed on synthetic weights built from its `config.json`, as
/// `auffusion-bench unet|vae-decode|vae-encode|text-encoder|vocoder` runs it: one warm-up forward
/// pass, then ``runs`` timed ones (``BenchmarkTiming``).
public struct ModelBenchmark: Sendable {
    public var model: BenchmarkedModel
    /// The network's `config.json` (no checkpoint is read).
    public var config: URL
    public var batch = 1
    /// The latent size as `HxW` (the U-Net's and the VAE decoder's input; `32x128` is a 10.24 s clip).
    public var latent = "32x128"
    /// Timed runs after the warm-up.
    public var runs = 3
    /// The precision of the network's matrix products (``ProductPrecision``; bfloat16 only where
    /// the CPU has it).
    public var products = ProductPrecision.float32

    public init(_ model: BenchmarkedModel, config: URL) {
        self.model = model
        self.config = config
    }

    /// `(height, width)` of a latent size written `HxW`: two positive integers around an `x`
    /// (either case); `nil` otherwise.
    public static func latentSize(_ text: String) -> (height: Int, width: Int)? {
        let parts = text.lowercased().split(separator: "x").compactMap { Int($0) }
        return parts.count == 2 && parts.allSatisfy { $0 > 0 } ? (parts[0], parts[1]) : nil
    }

    /// Builds the network and times its forward pass.
    public func run() throws -> BenchmarkTiming {
        let workload = try model.workload(config: config, batch: batch, latent: Self.latentSize(latent) ?? (32, 128))
        return try BenchmarkTiming(runs: runs) { try ProductPrecision.with(products, workload) }
    }

    /// The record of `timing` (docs/cli.md): command `bench MODEL`, the config as input, and
    /// `median_s`, `runs_s`, `peak_rss_mib`, `batch`, `latent` and `products` (the precision the
    /// products ran in: bfloat16 only where asked and the CPU has it) in its details.
    public func record(_ timing: BenchmarkTiming, started: Date) -> RunRecord {
        var record = RunRecord(command: "bench \(model.rawValue)", elapsed: Date().timeIntervalSince(started), input: config)
        record.details = ["median_s": .number(timing.median), "runs_s": .array(timing.runs.map(JSONValue.number)),
                          "peak_rss_mib": .number(timing.peakResidentMiB), "batch": .number(Double(batch)),
                          "latent": .string(latent), "products": .string(products.asRun.rawValue)]
        return record
    }
}
