import AudioDSP
import Compute
import Foundation
import Testing
import TestSupport

/// One analysed clip of `Tests/Fixtures/audio/cases.json`.
struct AudioCase: Decodable, CustomTestStringConvertible, Sendable {
    let name: String
    let samples: Int
    let frames: Int
    var testDescription: String { name }

    static func all() throws -> [AudioCase] { try Fixtures.cases(AudioCase.self, "audio/cases.json") }
}

@Suite("Log-mel analysis against torch.stft + librosa (scripts/reference/audio_fixtures.py)")
struct LogMelParityTests {
    let analyzer: MelAnalyzer

    init() throws { analyzer = try MelAnalyzer(MelParameters()) }

    @Test("the filterbank equals librosa.filters.mel (slaney) within 1e-6")
    func filterbank() throws {
        let expected = try Fixtures.tensor("audio/filterbank.npy")
        let discrepancy = compare(MelFilterbank.make(MelParameters()), expected)
        #expect(discrepancy.isWithin(Tolerance.filterbank), "\(discrepancy)")
    }

    @Test("the log-mel equals the reference mel_spectrogram", arguments: try AudioCase.all())
    func logMel(_ clip: AudioCase) throws {
        let samples = try AudioFile.read(Fixtures.url("audio/\(clip.name).wav")).channels[0]
        #expect(samples.count == clip.samples)
        let actual = try analyzer.logMel(of: samples)
        let expected = try Fixtures.tensor("audio/\(clip.name).logmel.npy")
        #expect(actual.shape == [256, clip.frames])
        let tolerance = SpectrogramTolerance.logMel
        let discrepancy = compareLogSpectrogram(actual, expected, dynamicRangeDecibels: tolerance.dynamicRangeDecibels)
        #expect(discrepancy.isWithin(tolerance), "\(discrepancy)")
    }

    @Test("a clip analysed in chunks of frames (as long recordings are) gives the same values as in one piece, and matches the reference", arguments: try AudioCase.all())
    func chunked(_ clip: AudioCase) throws {
        let samples = try AudioFile.read(Fixtures.url("audio/\(clip.name).wav")).channels[0]
        var chunked = analyzer
        chunked.chunkFrames = 37       // chunk edges in the middle of frames' windows, and a short last chunk
        let whole = try analyzer.logMel(of: samples), parts = try chunked.logMel(of: samples)
        #expect(parts.shape == whole.shape && parts.scalars == whole.scalars)
        let discrepancy = compareLogSpectrogram(parts, try Fixtures.tensor("audio/\(clip.name).logmel.npy"),
                                                dynamicRangeDecibels: SpectrogramTolerance.logMel.dynamicRangeDecibels)
        #expect(discrepancy.isWithin(SpectrogramTolerance.logMel), "\(discrepancy)")
    }

    @Test("the [0, 1] image equals the reference normalize_spectrogram", arguments: try AudioCase.all())
    func image(_ clip: AudioCase) throws {
        let samples = try AudioFile.read(Fixtures.url("audio/\(clip.name).wav")).channels[0]
        let image = SpectrogramImage(logMel: try analyzer.logMel(of: samples))
        let expected = SpectrogramImage(pixels: try Fixtures.tensor("audio/\(clip.name).image.npy"))
        // Within the log-mel's 60 dB range the image must agree to 1e-5. Quieter cells are
        // covered by the log-mel test: the image is an exact affine map of the log-mel.
        let range = SpectrogramTolerance.logMel.dynamicRangeDecibels
        let pixelRange = Float(range / 20 * log(10)) / (SpectrogramImage.logMaximum - SpectrogramImage.logMinimum)
        let threshold = (expected.pixels.scalars.max() ?? 0) - pixelRange
        let loud = expected.pixels.scalars.indices.filter { expected.pixels.scalars[$0] >= threshold }
        let discrepancy = compare(loud.map { image.pixels.scalars[$0] }, loud.map { expected.pixels.scalars[$0] })
        #expect(discrepancy.isWithin(Tolerance.image), "\(discrepancy)")
    }

    @Test("a clip too short for the reflect padding is an error")
    func tooShort() {
        #expect(throws: AnalysisError.self) { try analyzer.logMel(of: [Float](repeating: 0.1, count: 900)) }
    }

    @Test("NaN samples are an error")
    func nonFinite() {
        var samples = [Float](repeating: 0.1, count: 4000)
        samples[17] = .nan
        #expect(throws: AnalysisError.nonFiniteSamples) { try analyzer.logMel(of: samples) }
    }
}
