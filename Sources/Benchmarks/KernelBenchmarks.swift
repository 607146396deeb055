import AudioDSP
import Compute
import Foundation
import Toolkit

/// The audio front end and the compute kernels, timed on this machine: `auffusion-bench kernels`
/// prints them, and `make bench` sets them beside the Python reference's
/// (scripts/reference/bench.py, which builds the same clip and inputs).
public struct KernelBenchmarks: Sendable {
    /// Timed runs per benchmark, after one warm-up run.
    public var repetitions: Int
    /// Run only the benchmarks whose name contains this text (all when `nil`).
    public var filter: String?

    public init(repetitions: Int = 5, filter: String? = nil) {
        self.repetitions = repetitions
        self.filter = filter
    }

    /// The median time, in seconds, of every selected benchmark; the audio ones analyse `source`.
    public func run(on source: AudioBuffer = benchmarkClip()) throws -> [(name: String, seconds: Double)] {
        let selected = { (name: String) in filter.map { name.contains($0) } ?? true }
        var results: [(name: String, seconds: Double)] = []
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
        return results
    }

    /// The record of `results` (docs/cli.md): command `bench kernels`, the clip as input when one
    /// was given, and the thread count and each benchmark's median in its details.
    public static func record(_ results: [(name: String, seconds: Double)], clip: URL?, started: Date) -> RunRecord {
        var record = RunRecord(command: "bench kernels", elapsed: Date().timeIntervalSince(started), input: clip)
        record.details = ["threads": .number(Double(ComputeThreads.count)),
                          "results": .array(results.map { .object(["name": .string($0.name), "seconds": .number($0.seconds)]) })]
        return record
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
        return { _ = try griffinLim.reconstruct(magnitudes: magnitudes, frameCount: logMel.shape[1]) }
    }

    private func median(of body: () throws -> Void) throws -> Double {
        try BenchmarkTiming(runs: max(1, repetitions), body).median
    }

    /// The benchmark clip: 10 s, 44.1 kHz, stereo; a 220 Hz + 3 kHz tone mix with a slow
    /// tremolo and low-level deterministic noise (same recipe as scripts/reference/bench.py).
    public static func benchmarkClip() -> AudioBuffer {
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
