import AudioDSP
import Editing
import Foundation
import Pipeline
import Testing
import TestSupport

/// Tests of meaning of the finishing step with the embedded model (issue #17): a user's 44.1 kHz
/// stereo 24-bit file, made here with different content on its two channels, edited with
/// `Inpainting` and written back with `EditedFile` (docs/editing.md, "The file's own format").
@Suite("Embedded model: an edit writes the user's file back", .serialized)
struct EditedFileTests {
    static let rate = 44_100.0
    let pipeline: AuffusionPipeline
    let folder: URL

    init() throws {
        pipeline = try AuffusionPipeline(folder: EmbeddedModel.defaultFolder(environment: [:]))
        folder = try Fixtures.temporaryDirectory()
    }

    /// A 2.5 s stereo file: `left` and `right` sample by sample, as 24-bit FLAC.
    private func file(_ name: String, left: (Double) -> Double, right: (Double) -> Double) throws -> URL {
        let url = folder.appendingPathComponent(name)
        let times = (0..<Int(2.5 * Self.rate)).map { Double($0) / Self.rate }
        try AudioFile.write(AudioBuffer(channels: [times.map { Float(left($0)) }, times.map { Float(right($0)) }], sampleRate: Self.rate),
                            to: url, encoding: .pcm24)
        return url
    }

    /// Inpaints `range` (and `band`) of `input` with `prompt` and writes it to `output`; returns the output read back.
    @discardableResult
    private func inpaint(_ input: URL, _ range: Range<Double>, band: Range<Double>? = nil, prompt: String, seed: UInt64,
                         level: FillLevel = .context, to output: URL) throws -> (AudioBuffer, [FillReport]) {
        var none: NoiseSource?
        let clip = try ClipLatents(encoding: AudioFile.read(input), pipeline: pipeline, posteriorNoise: &none)
        let mask = try EditMask(ranges: [range], band: band, clipDuration: clip.duration,
                                maximumFrequency: pipeline.melParameters.maximumFrequency)
        var plan = EditPlan([.inpainting(mask: mask, strength: 1, request: {
            var request = GenerationRequest(prompt: prompt)
            request.stepCount = 25
            request.guidanceScale = 5
            return request
        }())])
        plan.fillLevel = level
        var noise = NoiseSource(seed: seed)
        let result = try plan.run(clip: clip, pipeline: pipeline, noise: &noise)
        let reports = try EditedFile(source: input).write(result.fills, to: output)
        return (try AudioFile.read(output), reports)
    }

    private func tone(_ frequency: Double, _ amplitude: Double) -> (Double) -> Double { { amplitude * sin(2 * .pi * frequency * $0) } }

    @Test("format overrides outside the rates and channel counts are refused before any work, naming the field")
    func overridesAreChecked() throws {
        let url = try file("checked.flac", left: { _ in 0 }, right: { _ in 0 })
        var edited = try EditedFile(source: url)
        for (overrides, field) in [(OutputFormat(sampleRate: 999), "sample_rate"), (OutputFormat(sampleRate: 768_001), "sample_rate"),
                                   (OutputFormat(channelCount: 0), "channels"), (OutputFormat(channelCount: 65), "channels")] {
            edited.overrides = overrides
            #expect {
                try edited.validate()
            } throws: { error in
                guard case PipelineError.invalidValue(field, _) = error else { return false }
                return true
            }
        }
        edited.overrides = OutputFormat(sampleRate: 1_000, channelCount: 1, encoding: .pcm16)
        try edited.validate()
        edited.overrides = OutputFormat(sampleRate: 768_000, channelCount: 2)
        try edited.validate()
    }

    @Test("inpainting 1.0-1.5 s of a 44.1 kHz stereo 24-bit FLAC: same rate, channels, encoding and length; every sample outside the mask identical on both channels; the gap becomes noise")
    func formatAndSamples() throws {
        // Left: bursts of a low tone; right: a steady medium tone. Different content per channel.
        let input = try file("scene.flac", left: { $0.truncatingRemainder(dividingBy: 0.33) < 0.11 ? 0.4 * sin(2 * .pi * 255 * $0) : 0 },
                             right: tone(600, 0.2))
        let output = folder.appendingPathComponent("scene-edited.flac")
        let (edited, reports) = try inpaint(input, 1.0..<1.5, prompt: "white noise", seed: 100, to: output)
        let original = try AudioFile.read(input)
        let (a, b) = (try AudioReader(input).format, try AudioReader(output).format)
        #expect(b == a && b.encoding == .pcm24 && b.sampleRate == 44_100 && b.channelCount == 2)
        #expect(edited.frameCount == original.frameCount)
        let frames = try #require(reports.first).frames
        #expect(frames == 44_100..<66_150)
        for channel in 0..<2 {
            #expect(edited.channels[channel][..<frames.lowerBound] == original.channels[channel][..<frames.lowerBound])
            #expect(edited.channels[channel][frames.upperBound...] == original.channels[channel][frames.upperBound...])
            let gap = SoundMeasures(edited.channels[channel], sampleRate: Self.rate).part(1.05..<1.45).flatness
            let before = SoundMeasures(original.channels[channel], sampleRate: Self.rate).part(1.05..<1.45).flatness
            let fillLevel = TestSignal.decibels(BandLevel(band: 0..<8_000, sampleRate: Self.rate)(Array(edited.channels[channel][46_305..<63_945])))
            print("edited file, channel \(channel): gap flatness \(before) → \(gap); level \(reports[0].level), context "
                  + "\(reports[0].contextDecibels ?? []) dBFS, fill \(fillLevel) dBFS, gains \(reports[0].gainDecibels) dB, limited \(reports[0].limited)")
            #expect(gap > before + 0.1, "channel \(channel): the gap's flatness went from \(before) to \(gap)")
        }
    }

    @Test("a 20 s 44.1 kHz stereo 24-bit FLAC inpainted at 12.0-13.5 s (one window of the canvas): same rate, channels, encoding and length; every sample outside the mask identical on both channels")
    func longFile() throws {
        let url = folder.appendingPathComponent("long.flac")
        let count = Int(20 * Self.rate)
        let tremolo = TestSignal.sine(0.3, amplitude: 0.4, count: count, rate: Self.rate)
        let left = zip(TestSignal.sine(255, amplitude: 0.3, count: count, rate: Self.rate), tremolo).map { $0 * (0.6 + $1) }
        let right = TestSignal.noise(rms: 0.05, count: count, seed: 5)
        try AudioFile.write(AudioBuffer(channels: [left, right], sampleRate: Self.rate), to: url, encoding: .pcm24)
        let original = try AudioFile.read(url)
        let clip = try EditClip(original, pipeline: pipeline)
        let mask = try EditMask(ranges: [12.0..<13.5], clipDuration: clip.duration, maximumFrequency: pipeline.melParameters.maximumFrequency)
        var request = GenerationRequest(prompt: "a high pitched beep")
        (request.stepCount, request.guidanceScale) = (25, 5)
        var noise = NoiseSource(seed: 103)
        let result = try EditPlan([.inpainting(mask: mask, request: request)]).run(on: clip, pipeline: pipeline, noise: &noise)
        #expect(result.spans.windowCount == 1 && result.edit.fills.map(\.range) == [12.0..<13.5])
        let output = folder.appendingPathComponent("long-edited.flac")
        let reports = try EditedFile(source: url).write(result.edit.fills, to: output)
        #expect(reports.map(\.frames) == [529_200..<595_350])
        let edited = try AudioFile.read(output)
        #expect(try AudioReader(output).format == AudioReader(url).format && edited.frameCount == count)
        for channel in 0..<2 {
            #expect(edited.channels[channel][..<529_200] == original.channels[channel][..<529_200])
            #expect(edited.channels[channel][595_350...] == original.channels[channel][595_350...])
            #expect(edited.channels[channel][529_200..<595_350] != original.channels[channel][529_200..<595_350])
        }
    }

    @Test("band inpainting 2-4 kHz over low tones keeps the tones' level inside the time range (without the band they are lost)")
    func bandKeepsLowTones() throws {
        let input = try file("tones.flac", left: { 0.3 * sin(2 * .pi * 255 * $0) + 0.2 * sin(2 * .pi * 700 * $0) },
                             right: tone(400, 0.3))
        let low = BandLevel(band: 0..<1_500, sampleRate: Self.rate), band = BandLevel(band: 2_000..<4_000, sampleRate: Self.rate)
        let inside = Int(0.95 * Self.rate)..<Int(1.55 * Self.rate)
        let original = try AudioFile.read(input)
        let (banded, _) = try inpaint(input, 0.9..<1.6, band: 2_000..<4_000, prompt: "a high pitched beep", seed: 101,
                                      to: folder.appendingPathComponent("banded.flac"))
        let (whole, _) = try inpaint(input, 0.9..<1.6, prompt: "a high pitched beep", seed: 101,
                                     to: folder.appendingPathComponent("whole.flac"))
        for channel in 0..<2 {
            func decibels(_ measure: BandLevel, _ audio: AudioBuffer) -> Double {
                TestSignal.decibels(measure(Array(audio.channels[channel][inside])))
            }
            let (before, kept, lost) = (decibels(low, original), decibels(low, banded), decibels(low, whole))
            print("band inpainting, channel \(channel): tones below 1.5 kHz \(before) dBFS before, \(kept) with --band 2000-4000, "
                  + "\(lost) without; 2-4 kHz \(decibels(band, original)) → \(decibels(band, banded)) dBFS")
            #expect(abs(kept - before) < 0.1, "channel \(channel): the low tones moved by \(kept - before) dB")
            #expect(lost < before - 3, "channel \(channel): without the band the tones should be replaced (\(lost) vs \(before) dB)")
            #expect(decibels(band, banded) > decibels(band, original) + 20, "channel \(channel): the band should hold the beep")
        }
    }

    @Test("a fill in a quiet passage of a loud clip sits near the passage's level; the raw level is far above it")
    func fillLevel() throws {
        // Low tone bursts at −8 dBFS, quieted by 40 dB from 0.5 to 2.1 s (so that the 0.5 s of
        // context on each side of the mask lie inside the quiet passage), on both channels.
        let bursts: (Double) -> Double = { t in
            let on = t.truncatingRemainder(dividingBy: 0.33) < 0.11 ? 0.4 * sin(2 * .pi * 255 * t) : 0
            return (0.5..<2.1).contains(t) ? on * 0.01 : on
        }
        let input = try file("quiet.flac", left: bursts, right: { 0.5 * bursts($0) })
        let inside = Int(1.15 * Self.rate)..<Int(1.45 * Self.rate)
        let measure = BandLevel(band: 0..<8_000, sampleRate: Self.rate)
        let original = try AudioFile.read(input)
        let (matched, reports) = try inpaint(input, 1.1..<1.5, prompt: "white noise", seed: 102,
                                             to: folder.appendingPathComponent("matched.flac"))
        let (raw, _) = try inpaint(input, 1.1..<1.5, prompt: "white noise", seed: 102, level: .raw,
                                   to: folder.appendingPathComponent("raw.flac"))
        let context = try #require(reports.first?.contextDecibels)
        for channel in 0..<2 {
            let level = { (audio: AudioBuffer) in TestSignal.decibels(measure(Array(audio.channels[channel][inside]))) }
            let passage = TestSignal.decibels(measure(Array(original.channels[channel][Int(0.5 * Self.rate)..<Int(2.1 * Self.rate)])))
            print("fill level, channel \(channel): passage \(passage) dBFS, context \(context[channel]), fill \(level(matched)) "
                  + "dBFS, raw level \(level(raw)) dBFS")
            #expect(abs(level(matched) - context[channel]) < 1.5, "channel \(channel): fill \(level(matched)), context \(context[channel])")
            #expect(level(raw) > level(matched) + 20, "channel \(channel): the raw fill should be far louder")
        }
    }
}
