import AudioDSP
import Foundation
import Testing

@Suite("The look-ahead peak limiter")
struct PeakLimiterTests {
    /// One second of a 440 Hz sine at 0.5 with single-sample spikes to `spike` at 0.25 s and 0.7 s.
    static func spiky(_ spike: Float, rate: Double = 44_100) -> [Float] {
        var samples = (0..<Int(rate)).map { Float(0.5 * sin(2 * .pi * 440 * Double($0) / rate)) }
        for time in [0.25, 0.7] { samples[Int(time * rate)] = spike }
        return samples
    }

    @Test("spikes 10 dB over the ceiling end at it; the rest keeps its level (RMS outside 10 ms before to 300 ms after each spike, six release time constants, within 0.05 dB) and the reduction is reported")
    func spikes() {
        let rate = 44_100.0, input = Self.spiky(3.16)
        let (output, reduction) = PeakLimiter(ceiling: 1)(input, sampleRate: rate)
        #expect(output.map(abs).max()! <= 1)
        #expect(abs(reduction - 20 * log10(1 / 3.16)) < 0.1, "reduction \(reduction) dB")
        let near = { (index: Int) in [0.25, 0.7].contains { (-0.01..<0.3).contains(Double(index) / rate - $0) } }
        let rms = { (signal: [Float]) in
            (signal.indices.filter { !near($0) }.reduce(0.0) { $0 + Double(signal[$1] * signal[$1]) } / Double(signal.count)).squareRoot()
        }
        #expect(abs(20 * log10(rms(output) / rms(input))) < 0.05, "level change \(20 * log10(rms(output) / rms(input))) dB")
    }

    @Test("the gain ramps down before a peak instead of stepping (no sample-to-sample gain change above 25 %), and a signal under the ceiling is returned as it is")
    func smooth() {
        let rate = 16_000.0, input = Self.spiky(4, rate: rate)
        let (output, _) = PeakLimiter(ceiling: 1)(input, sampleRate: rate)
        let gains = zip(output, input).map { abs($1) > 0.05 ? $0 / $1 : nil }
        let steps = zip(gains, gains.dropFirst()).compactMap { pair in pair.0.flatMap { a in pair.1.map { b in abs(b - a) } } }
        #expect(steps.max()! < 0.25, "largest gain step \(steps.max()!)")
        let quiet = Self.spiky(0.9, rate: rate)
        let (same, none) = PeakLimiter(ceiling: 1)(quiet, sampleRate: rate)
        #expect(same == quiet && none == 0)
    }
}
