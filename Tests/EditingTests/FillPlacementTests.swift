import AudioDSP
import Editing
import Foundation
import Testing
import TestSupport

/// Signals for the finishing step's tests, made here: sines and seeded noise.
enum TestSignal {
    static func sine(_ frequency: Double, amplitude: Double, count: Int, rate: Double) -> [Float] {
        (0..<count).map { Float(amplitude * sin(2 * .pi * frequency * Double($0) / rate)) }
    }

    /// Uniform noise of RMS `rms` (a 64-bit LCG, so every run draws the same).
    static func noise(rms: Double, count: Int, seed: UInt64) -> [Float] {
        var state = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return (0..<count).map { _ in
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Float((Double(state >> 11) / Double(1 << 53) * 2 - 1) * rms * 3.0.squareRoot())
        }
    }

    static func decibels(_ level: Double) -> Double { 20 * log10(max(level, 1e-12)) }
}

/// The finishing step without a model: a fill (noise at 16 kHz, as the model's output would be)
/// brought to a 44.1 kHz stereo file (docs/editing.md, "The file's own format").
@Suite("The finishing step: format, band splice and level of a fill")
struct FillPlacementTests {
    static let rate = 44_100.0

    /// A fill of 16 kHz noise of RMS 0.3 over the first `seconds`, for `range`.
    private func fill(_ range: Range<Double>, band: Range<Double>? = nil, level: FillLevel = .context, seconds: Double = 3) -> Fill {
        Fill(range: range, band: band, audio: AudioBuffer(mono: TestSignal.noise(rms: 0.3, count: Int(seconds * 16_000), seed: 9),
                                                            sampleRate: 16_000),
             start: 0, analysisGain: 1, level: level)
    }

    @Test("a 44.1 kHz stereo 24-bit FLAC keeps its rate, channels, encoding, length and every sample outside the fill on both channels")
    func fileFormat() throws {
        let folder = try Fixtures.temporaryDirectory()
        let input = folder.appendingPathComponent("scene.flac"), output = folder.appendingPathComponent("edited.flac")
        let count = Int(3 * Self.rate)
        let left = TestSignal.sine(220, amplitude: 0.4, count: count, rate: Self.rate)
        let right = zip(TestSignal.sine(3_300, amplitude: 0.2, count: count, rate: Self.rate),
                        TestSignal.noise(rms: 0.05, count: count, seed: 2)).map { $0 + $1 }
        try AudioFile.write(AudioBuffer(channels: [left, right], sampleRate: Self.rate), to: input, encoding: .pcm24)
        let file = try EditedFile(source: input)
        #expect(file.notes(writingTo: output).isEmpty)
        let reports = try file.write([fill(1.0..<1.5)], to: output)
        let (before, after) = (try AudioFile.read(input), try AudioFile.read(output))
        #expect(try AudioReader(output).format == AudioReader(input).format)
        #expect(after.frameCount == before.frameCount)
        let edited = reports[0].frames
        #expect(edited == 44_100..<66_150)
        for channel in 0..<2 {
            #expect(after.channels[channel][..<edited.lowerBound] == before.channels[channel][..<edited.lowerBound])
            #expect(after.channels[channel][edited.upperBound...] == before.channels[channel][edited.upperBound...])
            #expect(edited.contains { after.channels[channel][$0] != before.channels[channel][$0] })
        }
        // The policy, measured inside the fill (clear of the crossfades): one mono fill on both
        // channels at each channel's context level, nothing above the model's 8 kHz.
        let inside = (edited.lowerBound + 2_000)..<(edited.upperBound - 2_000)
        let (l, r) = (Array(after.channels[0][inside]), Array(after.channels[1][inside]))
        let correlation = SoundMeasures.correlation(l.map(Double.init), r.map(Double.init))
        let below = BandLevel(band: 0..<8_000, sampleRate: Self.rate), above = BandLevel(band: 8_100..<22_050, sampleRate: Self.rate)
        let balance = TestSignal.decibels(below(l)) - TestSignal.decibels(below(r))
        let context = try #require(reports[0].contextDecibels)
        let contextBalance = context[0] - context[1]
        let high = TestSignal.decibels(above(l)) - TestSignal.decibels(below(l))
        print("file format: inside the fill L/R correlation \(correlation), balance \(balance) dB (context \(contextBalance) dB), "
              + "above 8.1 kHz \(high) dB under the fill (input: \(TestSignal.decibels(above(Array(right[inside]))) - TestSignal.decibels(below(Array(right[inside])))) dB on the right)")
        #expect(correlation > 0.999 && abs(balance - contextBalance) < 0.5 && high < -60)
        let notes = file.notes(writingTo: folder.appendingPathComponent("edited.ogg"))
        #expect(notes.count == 1 && notes[0].contains("write .flac or .wav"))
    }

    @Test("band 2-4 kHz over low tones: the tones keep their level inside the range, the band is the fill's; figures printed")
    func bandSplice() throws {
        let count = Int(3 * Self.rate)
        let tones = zip(TestSignal.sine(300, amplitude: 0.3, count: count, rate: Self.rate),
                        TestSignal.sine(700, amplitude: 0.2, count: count, rate: Self.rate)).map { $0 + $1 }
        let original = AudioBuffer(channels: [tones, tones.map { $0 * 0.5 }], sampleRate: Self.rate)
        var placement = FillPlacement()
        let (segment, _) = try #require(try placement.segment(for: fill(1.0..<2.0, band: 2_000..<4_000), in: original))
        let output = original.splicing([segment])
        let inside = 48_510..<83_790   // 1.1-1.9 s, clear of the crossfades
        let low = BandLevel(band: 0..<1_500, sampleRate: Self.rate), band = BandLevel(band: 2_000..<4_000, sampleRate: Self.rate)
        for channel in 0..<2 {
            let (a, b) = (Array(original.channels[channel][inside]), Array(output.channels[channel][inside]))
            let change = TestSignal.decibels(low(b)) - TestSignal.decibels(low(a))
            let residual = zip(a, b).map { $1 - $0 }
            let lost = TestSignal.decibels(low(residual)) - TestSignal.decibels(low(a))
            print("band splice, channel \(channel): low tones \(String(format: "%+.3f", change)) dB, "
                  + "change below 1.5 kHz \(String(format: "%.1f", lost)) dB under the tones, "
                  + "2-4 kHz band \(String(format: "%.1f", TestSignal.decibels(band(b)))) dBFS (input \(String(format: "%.1f", TestSignal.decibels(band(a)))))")
            #expect(abs(change) < 0.05 && lost < -60, "low tones moved \(change) dB; residual \(lost) dB")
            #expect(TestSignal.decibels(band(b)) > TestSignal.decibels(band(a)) + 30, "the band holds the fill")
        }
        placement.crossfadeSeconds = 0
        let whole = try #require(try placement.segment(for: fill(1.0..<2.0), in: original)).0
        let replaced = original.splicing([whole]).channels[0][inside]
        #expect(TestSignal.decibels(low(Array(replaced))) < TestSignal.decibels(low(Array(tones[inside]))) - 3,
                "without a band the whole spectrum is replaced")
    }

    @Test("a fill in a quiet passage of a loud clip sits at the passage's level on each channel; the raw level does not")
    func contextLevel() throws {
        let count = Int(3 * Self.rate), quiet = Int(0.8 * Self.rate)..<Int(2.2 * Self.rate)
        func channel(loud: Double, soft: Double, seed: UInt64) -> [Float] {
            TestSignal.noise(rms: 1, count: count, seed: seed).enumerated().map { index, sample in
                sample * Float(quiet.contains(index) ? soft : loud)
            }
        }
        // −10 dBFS around a passage at −40 dBFS (left) and −52 dBFS (right).
        let original = AudioBuffer(channels: [channel(loud: 0.316, soft: 0.01, seed: 3), channel(loud: 0.316, soft: 0.0025, seed: 4)],
                                   sampleRate: Self.rate)
        var placement = FillPlacement()
        placement.contextSeconds = 0.25
        let (segment, report) = try #require(try placement.segment(for: fill(1.3..<1.7), in: original))
        let inside = 0.05 * Self.rate..<(0.35 * Self.rate)
        let measure = BandLevel(band: 0..<8_000, sampleRate: Self.rate)
        let levels = segment.audio.channels.map { TestSignal.decibels(measure(Array($0[Int(inside.lowerBound)..<Int(inside.upperBound)]))) }
        let passage = original.channels.map { TestSignal.decibels(measure(Array($0[quiet]))) }
        print("context level: fill \(levels.map { String(format: "%.2f", $0) }) dBFS below 8 kHz in a passage at "
              + "\(passage.map { String(format: "%.2f", $0) }) dBFS; gains \(report.gainDecibels.map { String(format: "%.1f", $0) }) dB")
        #expect(report.level == .context)
        #expect(zip(levels, passage).allSatisfy { abs($0 - $1) < 1 }, "fill levels \(levels), passage \(passage)")
        let raw = try #require(try placement.segment(for: fill(1.3..<1.7, level: .raw), in: original)).1
        #expect(raw.level == .raw && raw.gainDecibels == [0, 0])
    }

    @Test("one spike in a fill is limited, not the whole fill: a fill with one sample at +9.5 dBFS into a −10 dBFS clip keeps the clip's level (within 1 dB), its peak at −0.1 dBFS, and the record says by how much")
    func spikeLimited() throws {
        let original = AudioBuffer(channels: [TestSignal.noise(rms: 0.316, count: Int(3 * Self.rate), seed: 3)], sampleRate: Self.rate)
        var samples = TestSignal.noise(rms: 0.3, count: 3 * 16_000, seed: 9)
        samples[Int(1.5 * 16_000)] = 3
        let spiky = Fill(range: 1.3..<1.7, band: nil, audio: AudioBuffer(mono: samples, sampleRate: 16_000), start: 0, analysisGain: 1,
                         level: .context)
        var placement = FillPlacement()
        placement.contextSeconds = 0.25
        let (segment, report) = try #require(try placement.segment(for: spiky, in: original))
        let measure = BandLevel(band: 0..<8_000, sampleRate: Self.rate)
        let level = TestSignal.decibels(measure(Array(segment.audio.channels[0][Int(0.05 * Self.rate)..<Int(0.35 * Self.rate)])))
        let clip = TestSignal.decibels(measure(original.channels[0]))
        #expect(abs(level - clip) < 1, "fill \(level) dBFS in a clip at \(clip) dBFS")
        #expect(segment.audio.peak <= FillPlacement.ceiling)
        #expect(report.limited && report.limiterDecibels < -1, "limiter \(report.limiterDecibels) dB")
    }

    /// A file near full scale: a 150 Hz sine at `amplitude` plus noise, on two channels.
    private func loud(_ amplitude: Double) -> AudioBuffer {
        let count = Int(3 * Self.rate)
        let tone = TestSignal.sine(150, amplitude: amplitude, count: count, rate: Self.rate)
        return AudioBuffer(channels: [zip(tone, TestSignal.noise(rms: 0.02, count: count, seed: 5)).map { $0 + $1 }, tone], sampleRate: Self.rate)
    }

    @Test("a fill into a loud file passes −0.1 dBFS nowhere: not in the crossfades where file and fill add up, not under a band fill; where the file itself is louder, nothing passes its own sample")
    func noClippingAtTheSeams() throws {
        for (original, band) in [(loud(0.94), nil), (loud(0.8), 2_000.0..<4_000), (loud(1.2), nil)] as [(AudioBuffer, Range<Double>?)] {
            var hot = fill(1.0..<1.5, band: band)
            hot.level = .raw
            hot.analysisGain = 3   // the fill's own peaks near +9 dBFS, the sum far over
            let (segment, report) = try #require(try FillPlacement().segment(for: hot, in: original))
            var over = 0
            for (channel, samples) in segment.audio.channels.enumerated() {
                for (offset, sample) in samples.enumerated() where abs(sample) > max(FillPlacement.ceiling, abs(original.channels[channel][segment.start + offset])) + 1e-6 {
                    over += 1
                }
            }
            #expect(over == 0 && report.limited, "band \(String(describing: band)): \(over) samples over")
        }
        // A band fill over a clipped file, whose out-of-band part alone passes full scale: what
        // stays is kept, the fill yields to it, and the record's reduction is a number.
        let count = Int(3 * Self.rate)
        let clipped = AudioBuffer(mono: TestSignal.sine(1_000, amplitude: 3, count: count, rate: Self.rate).map { min(0.95, max(-0.95, $0)) },
                                  sampleRate: Self.rate)
        var hot = fill(1.0..<1.5, band: 2_000..<4_000)
        (hot.level, hot.analysisGain) = (.raw, 3)
        let (segment, report) = try #require(try FillPlacement().segment(for: hot, in: clipped))
        #expect(report.limited && report.limiterDecibels.isFinite && segment.audio.channels[0].allSatisfy(\.isFinite),
                "limiter \(report.limiterDecibels) dB")
    }

    @Test("a DC offset around the range is carried through it: the fill sits on the same offset, so the seams do not step")
    func offsetCarried() throws {
        let count = Int(3 * Self.rate)
        let original = AudioBuffer(channels: [TestSignal.sine(400, amplitude: 0.2, count: count, rate: Self.rate).map { $0 + 0.3 }],
                                   sampleRate: Self.rate)
        let (segment, _) = try #require(try FillPlacement().segment(for: fill(1.0..<1.5), in: original))
        let samples = segment.audio.channels[0]
        let mean = samples.reduce(0.0) { $0 + Double($1) } / Double(samples.count)
        #expect(abs(mean - 0.3) < 0.02, "mean inside the range \(mean)")
        // The mean over the crossfades (20 ms) against the file's offset there: no 0.3 step.
        let fade = Int(0.02 * Self.rate)
        for edge in [samples[..<fade], samples[(samples.count - fade)...]] {
            let edgeMean = edge.reduce(0.0) { $0 + Double($1) } / Double(edge.count)
            #expect(abs(edgeMean - 0.3) < 0.05, "mean over a crossfade \(edgeMean)")
        }
    }

    @Test("a fill the model made nearly silent is raised at most 30 dB over the raw level, not into amplified noise; a channel silent around the range stays silent (the image of the surroundings)")
    func boostCapped() throws {
        let count = Int(3 * Self.rate)
        let original = AudioBuffer(channels: [TestSignal.noise(rms: 0.1, count: count, seed: 3), [Float](repeating: 0, count: count)],
                                   sampleRate: Self.rate)
        var faint = fill(1.0..<1.5)
        faint.audio = AudioBuffer(mono: faint.audio.channels[0].map { $0 * 1e-5 }, sampleRate: 16_000)   // about −110 dBFS
        let (segment, report) = try #require(try FillPlacement().segment(for: faint, in: original))
        #expect(report.level == .context && abs(report.gainDecibels[0] - FillPlacement.maximumBoostDecibels) < 0.01,
                "gains \(report.gainDecibels)")
        #expect(segment.audio.channels[1].allSatisfy { $0 == 0 })
    }
}
