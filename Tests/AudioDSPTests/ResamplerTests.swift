import AudioDSP
import Foundation
import Testing
import TestSupport

@Suite("Resampling to 16 kHz")
struct ResamplerTests {
    /// Frequency of the strongest DFT bin (with parabolic interpolation), in Hz.
    private func dominantFrequency(_ samples: [Float], sampleRate: Double) -> Double {
        let n = samples.count
        var best = (power: 0.0, bin: 0)
        var powers = [Double](repeating: 0, count: n / 2)
        for k in 1..<n / 2 {
            var re = 0.0, im = 0.0
            let step = 2 * Double.pi * Double(k) / Double(n)
            for (index, sample) in samples.enumerated() {
                re += Double(sample) * cos(step * Double(index))
                im -= Double(sample) * sin(step * Double(index))
            }
            powers[k] = re * re + im * im
            if powers[k] > best.power { best = (powers[k], k) }
        }
        let (a, b, c) = (log(powers[best.bin - 1]), log(powers[best.bin]), log(powers[best.bin + 1]))
        let offset = 0.5 * (a - c) / (a - 2 * b + c)
        return (Double(best.bin) + offset) * sampleRate / Double(n)
    }

    private func rmsDecibels(_ samples: ArraySlice<Float>) -> Double {
        10 * log10(samples.reduce(0) { $0 + Double($1) * Double($1) } / Double(samples.count))
    }

    @Test("a stereo sine keeps its frequency and its level within 0.1 dB", arguments: [44100.0, 48000.0])
    func sineSurvives(sourceRate: Double) throws {
        let frequency = 1000.0, seconds = 1.0
        let count = Int(sourceRate * seconds)
        let sine = (0..<count).map { Float(0.5 * sin(2 * Double.pi * frequency * Double($0) / sourceRate)) }
        let folder = try Fixtures.temporaryDirectory()
        let url = folder.appendingPathComponent("sine.wav")
        try AudioFile.write(AudioBuffer(channels: [sine, sine], sampleRate: sourceRate), to: url, encoding: .float32)

        let resampled = try Resampler.resample(try AudioFile.read(url).mixedToMono(), to: 16000)
        #expect(resampled.sampleRate == 16000)
        #expect(resampled.frameCount == 16000)
        let interior = resampled.channels[0][2000..<14000]
        let measured = dominantFrequency(Array(resampled.channels[0][4000..<6000]), sampleRate: 16000)
        #expect(abs(measured - frequency) < 1.0, "measured \(measured) Hz")
        let expectedDecibels = 10 * log10(0.125)  // RMS² of a 0.5-amplitude sine
        #expect(abs(rmsDecibels(interior) - expectedDecibels) < 0.1)
    }

    @Test("a buffer already at the target rate is returned unchanged")
    func identity() throws {
        let buffer = AudioBuffer(mono: [0.1, -0.2, 0.3], sampleRate: 16000)
        #expect(try Resampler.resample(buffer, to: 16000) == buffer)
    }

    @Test("an impossible ratio is an error, not a crash")
    func invalidRatio() {
        #expect(throws: Resampler.Failure.self) {
            try Resampler.resample(AudioBuffer(mono: [0, 1], sampleRate: 1), to: 16000)
        }
    }
}

@Suite("Parallel resampling")
struct ParallelResamplerTests {
    @Test("pieces converted in parallel join without a seam (max |Δ| ≤ 1e-6 against one pass)",
          arguments: [(44100.0, 16000.0), (48000.0, 16000.0), (8000.0, 16000.0)])
    func matchesSinglePass(rates: (Double, Double)) throws {
        let count = Int(rates.0 * 3.3)
        var state: UInt32 = 12345
        let noise = (0..<count).map { _ -> Float in
            state = state &* 1_664_525 &+ 1_013_904_223
            return Float(Int32(bitPattern: state)) / Float(Int32.max) * 0.5
        }
        let buffer = AudioBuffer(mono: noise, sampleRate: rates.0)
        let single = try Resampler.resample(buffer, to: rates.1, parallelism: 1)
        for pieces in [2, 3] {
            let parallel = try Resampler.resample(buffer, to: rates.1, parallelism: pieces)
            #expect(parallel.frameCount == single.frameCount)
            #expect(compare(parallel.channels[0], single.channels[0]).maxAbs <= 1e-6)
        }
    }
}
