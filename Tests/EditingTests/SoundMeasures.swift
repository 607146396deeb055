import AudioDSP
import Editing
import Foundation
import Pipeline

/// What a sound is, measured from its samples, for the tests of meaning of the embedded model
/// (`docs/mini-model.md`): where its energy lies in frequency and in time.
///
/// Spectra are power spectra of 2048-sample Hann frames every 512 samples (7.8 Hz bins at
/// 16 kHz), averaged over the frames of the part asked for; only 60 Hz – 7.5 kHz is considered,
/// away from DC and from the top of the mel range.
struct SoundMeasures {
    let samples: [Float]
    let sampleRate: Double
    private let stft = ShortTimeFourierTransform(fftSize: 2048, hopLength: 512, windowLength: 2048)

    init(_ samples: [Float], sampleRate: Double = 16_000) {
        self.samples = samples
        self.sampleRate = sampleRate
    }

    /// The part of the sound between `seconds` (clamped to the clip).
    func part(_ seconds: Range<Double>) -> SoundMeasures {
        let start = max(0, min(samples.count, Int(seconds.lowerBound * sampleRate)))
        let end = max(start, min(samples.count, Int(seconds.upperBound * sampleRate)))
        return SoundMeasures(Array(samples[start..<end]), sampleRate: sampleRate)
    }

    var duration: Double { Double(samples.count) / sampleRate }

    private var binWidth: Double { sampleRate / Double(stft.fftSize) }
    private var consideredBins: Range<Int> { Int(60 / binWidth)..<Int(7500 / binWidth) }

    /// Mean power per bin over every frame.
    var powerSpectrum: [Double] {
        let magnitudes = stft.magnitudes(of: samples, epsilon: 0)
        let bins = stft.binCount, frames = magnitudes.count / bins
        var power = [Double](repeating: 0, count: bins)
        for frame in 0..<frames {
            for bin in 0..<bins { power[bin] += Double(magnitudes[frame * bins + bin] * magnitudes[frame * bins + bin]) }
        }
        return power.map { $0 / Double(max(frames, 1)) }
    }

    /// The frequency with the most energy, in Hz, refined by a parabola through the log powers of
    /// the peak bin and its neighbours (by at most half a bin: at the edge of the considered range
    /// the neighbour outside it may be stronger, and the parabola's vertex would lie beyond it).
    var dominantFrequency: Double { dominantFrequency(in: powerSpectrum) }

    private func dominantFrequency(in power: [Double]) -> Double {
        let range = consideredBins
        let peak = range.max { power[$0] < power[$1] } ?? range.lowerBound
        let (left, centre, right) = (log(power[peak - 1] + 1e-20), log(power[peak] + 1e-20), log(power[peak + 1] + 1e-20))
        let curvature = left - 2 * centre + right
        let offset = curvature < 0 ? min(0.5, max(-0.5, 0.5 * (left - right) / curvature)) : 0
        return (Double(peak) + offset) * binWidth
    }

    /// Spectral flatness of the mean power spectrum: geometric over arithmetic mean, 1 for white
    /// noise, near 0 for a pure tone.
    var flatness: Double {
        let power = powerSpectrum[consideredBins].map { $0 + 1e-20 }
        let logMean = power.reduce(0) { $0 + log($1) } / Double(power.count)
        return exp(logMean) / (power.reduce(0, +) / Double(power.count))
    }

    /// The share of the energy away from the dominant frequency: what is not the tone (noise, for
    /// a tone mixed with noise; a square-wave beep's overtones count too, a constant part of its
    /// energy). "Near" is within `semitones` of it or within `melBands` band
    /// spacings of the embedded model's mel scale (64 Slaney bands, 0–8 kHz), whichever is wider:
    /// the model places a tone only to within a band, 47 Hz wide below 1 kHz, and Griffin-Lim
    /// spreads a 100 Hz tone over 50–150 Hz, which 2 semitones (±12 %) would count as noise.
    func shareAwayFromDominant(semitones: Double = 2, melBands: Double = 2) -> Double {
        let power = powerSpectrum, dominant = dominantFrequency(in: power)
        let spacing = MelFilterbank.hertzToMel(8000) / 65, dominantMel = MelFilterbank.hertzToMel(dominant)
        func isNear(_ frequency: Double) -> Bool {
            abs(log2(frequency / dominant)) * 12 <= semitones
                || abs(MelFilterbank.hertzToMel(frequency) - dominantMel) <= melBands * spacing
        }
        var near = 0.0, total = 0.0
        for bin in consideredBins {
            total += power[bin]
            if isNear(Double(bin) * binWidth) { near += power[bin] }
        }
        return total > 0 ? 1 - near / total : 0
    }

    /// Mean square of the samples in decibels (−200 for silence).
    var energyDecibels: Double {
        let energy = samples.reduce(0.0) { $0 + Double($1) * Double($1) } / Double(max(samples.count, 1))
        return energy > 0 ? 10 * log10(energy) : -200
    }

    /// The loudness envelope in decibels: the root mean square of each consecutive window of
    /// `seconds`, relative to the loudest window and floored at `floor` dB. In decibels a burst
    /// counts by *when* it sounds rather than by how loud it is: a linear envelope is dominated by
    /// the loudest few bursts, so two trains with the same bursts at other loudnesses correlate
    /// poorly on it (docs/mini-model.md, "Word-swap timing").
    func envelopeDecibels(window seconds: Double, floor: Double = -60) -> [Double] {
        let size = max(1, Int(seconds * sampleRate))
        let levels = stride(from: 0, to: samples.count - size + 1, by: size).map { start in
            (samples[start..<start + size].reduce(0.0) { $0 + Double($1) * Double($1) } / Double(size)).squareRoot()
        }
        let loudest = levels.max() ?? 0
        guard loudest > 0 else { return levels.map { _ in floor } }
        return levels.map { max(floor, 20 * log10(max($0, .leastNonzeroMagnitude) / loudest)) }
    }

    /// Pearson correlation of two sequences of equal length (0 when either is constant).
    static func correlation(_ a: [Double], _ b: [Double]) -> Double {
        let n = Double(min(a.count, b.count))
        let (x, y) = (a.prefix(Int(n)), b.prefix(Int(n)))
        let (meanX, meanY) = (x.reduce(0, +) / n, y.reduce(0, +) / n)
        var covariance = 0.0, varianceX = 0.0, varianceY = 0.0
        for (u, v) in zip(x, y) {
            covariance += (u - meanX) * (v - meanY)
            varianceX += (u - meanX) * (u - meanX)
            varianceY += (v - meanY) * (v - meanY)
        }
        return varianceX > 0 && varianceY > 0 ? covariance / (varianceX * varianceY).squareRoot() : 0
    }

    /// Semitones from `a` to `b` Hz.
    static func semitones(from a: Double, to b: Double) -> Double { 12 * log2(b / a) }
}

/// The embedded model and the settings every test of meaning runs it with: 25 steps of the
/// folder's sampler at guidance 5.
enum EmbeddedModelRuns {
    static func pipeline() throws -> AuffusionPipeline {
        try AuffusionPipeline(folder: EmbeddedModel.defaultFolder(environment: [:]))
    }

    static func request(_ prompt: String) -> GenerationRequest {
        var request = GenerationRequest(prompt: prompt)
        request.stepCount = 25
        request.guidanceScale = 5
        return request
    }

    private struct RunKey: Hashable, Sendable {
        let prompt: String, seed: UInt64
    }

    private static let exactRuns = OnceEach<RunKey, GenerationResult>()

    /// The exact run of `prompt` from `seed` (``request(_:)``: the folder's sampler, no speed
    /// option), made once per test process: the exact tests of pitch and timbre and the fast
    /// presets' comparison with the exact run need the same generations. `pipeline` is the
    /// embedded model, as every caller loads it.
    static func exactRun(_ prompt: String, seed: UInt64, pipeline: AuffusionPipeline) throws -> GenerationResult {
        try exactRuns.value(for: RunKey(prompt: prompt, seed: seed)) {
            var noise = NoiseSource(seed: seed)
            return try pipeline.generate(request(prompt), noise: &noise)
        }
    }

    /// `seconds` of a sine at `frequency` and `amplitude`, gated on during `on` (all of it by
    /// default), encoded by `pipeline`: the clips the edit tests start from.
    static func tone(_ frequency: Double, amplitude: Double = 0.3, seconds: Double = 2.56, pipeline: AuffusionPipeline,
                     on: (Double) -> Bool = { _ in true }) throws -> ClipLatents {
        let samples = (0..<Int(seconds * 16_000)).map { index -> Float in
            let t = Double(index) / 16_000
            return on(t) ? Float(amplitude * sin(2 * .pi * frequency * t)) : 0
        }
        var posterior: NoiseSource?
        return try ClipLatents(encoding: AudioBuffer(mono: samples, sampleRate: 16_000), pipeline: pipeline, posteriorNoise: &posterior)
    }
}
