import ArgumentParser
import AudioDSP
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
        let selected = { (name: String) in filter.map { name.contains($0) } ?? true }
        var results: [(String, Double)] = []
        let source = try clip.map { try AudioFile.read(URL(fileURLWithPath: $0)) } ?? Self.benchmarkClip()
        if selected("audio.analysis_10s") {
            results.append(("audio.analysis_10s", try median(of: analysis(source, resampledFirst: false))))
        }
        if selected("audio.analysis_10s_16k") {
            results.append(("audio.analysis_10s_16k", try median(of: analysis(source, resampledFirst: true))))
        }
        if selected("audio.griffinlim_32") { results.append(("audio.griffinlim_32", try median(of: griffinLim(source)))) }
        for (name, work) in ComputeBenchmarks.all() where selected(name) {
            results.append((name, try median(of: work)))
        }
        if json {
            let entries = results.map { "{\"name\": \"\($0.0)\", \"seconds\": \($0.1)}" }
            print("{\"threads\": \(ComputeThreads.count), \"results\": [\(entries.joined(separator: ", "))]}")
        } else {
            for (name, seconds) in results { print(String(format: "%-24@ %10.2f ms", name, seconds * 1000)) }
        }
    }

    /// Read the clip from a WAV file, mix down, resample to 16 kHz, log-mel, image. With
    /// `resampledFirst`, the file is already 16 kHz mono and only reading and analysis are timed.
    private func analysis(_ source: AudioBuffer, resampledFirst: Bool) throws -> () throws -> Void {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("auffusion-bench-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let clip = folder.appendingPathComponent(resampledFirst ? "clip-16k.wav" : "clip.wav")
        let analyzer = try MelAnalyzer(MelParameters())
        let contents = resampledFirst
            ? try Resampler.resample(source.mixedToMono(), to: Double(analyzer.parameters.sampleRate)) : source
        try AudioFile.write(contents, to: clip)
        return {
            let buffer = try AudioFile.read(clip)
            _ = SpectrogramImage(logMel: try analyzer.logMel(of: buffer))
        }
    }

    /// 32 Griffin-Lim iterations on the magnitudes of a 10 s clip (1000 frames).
    private func griffinLim(_ source: AudioBuffer) throws -> () throws -> Void {
        let parameters = MelParameters()
        let analyzer = try MelAnalyzer(parameters)
        let logMel = try analyzer.logMel(of: source)
        let magnitudes = try MelInversion(filterbank: analyzer.filterbank).magnitudes(fromLogMel: logMel)
        let griffinLim = GriffinLim(parameters: parameters)
        return { _ = griffinLim.reconstruct(magnitudes: magnitudes, frameCount: logMel.shape[1]) }
    }

    private func median(of body: () throws -> Void) throws -> Double {
        try body()
        var times: [Double] = []
        for _ in 0..<max(1, repetitions) {
            let start = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return times.sorted()[times.count / 2]
    }

    /// The benchmark clip: 10 s, 44.1 kHz, stereo; a 220 Hz + 3 kHz tone mix with a slow
    /// tremolo and low-level deterministic noise (same recipe as scripts/reference/bench.py).
    static func benchmarkClip() -> AudioBuffer {
        let rate = 44100.0, count = 441_000
        var generator = LinearCongruential(seed: 1234)
        var left = [Float](repeating: 0, count: count), right = left
        for index in 0..<count {
            let time = Double(index) / rate
            let tone = 0.4 * sin(2 * .pi * 220 * time) + 0.2 * sin(2 * .pi * 3000 * time)
            let tremolo = 0.75 + 0.25 * sin(2 * .pi * 0.5 * time)
            left[index] = Float(tone * tremolo + 0.02 * generator.nextSigned())
            right[index] = Float(tone * (1.5 - tremolo) + 0.02 * generator.nextSigned())
        }
        return AudioBuffer(channels: [left, right], sampleRate: rate)
    }
}

/// A tiny deterministic generator for benchmark signals (not for model noise).
private struct LinearCongruential {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func nextSigned() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / Double(1 << 53) * 2 - 1
    }
}
