import Compute
import Foundation
import Models
import SyntheticWeights
import Testing
import TestSupport

/// One small vocoder of `Tests/Fixtures/vocoder/`: a published-layout folder with its input and
/// the reference `Generator`'s output. All are held to ``Tolerance/network``, the float16
/// checkpoint included (both sides widen the same float16 weights).
struct VocoderCase: CustomTestStringConvertible, Sendable {
    let name: String
    let about: String
    var testDescription: String { "\(name) (\(about))" }

    static let all = [
        VocoderCase(name: "v1", about: "ResBlock1, rates 5·4·4·2, weight norm, batch 2"),
        VocoderCase(name: "v1_fp16", about: "v1 saved with .half()"),
        VocoderCase(name: "v1_folded", about: "v1 after remove_weight_norm, safetensors"),
        VocoderCase(name: "v2", about: "ResBlock2, rates 4·5, output_padding 1"),
    ]
}

@Suite("HiFi-GAN generator against Auffusion's Generator (scripts/reference/vocoder_fixtures.py)")
struct HiFiGANParityTests {
    @Test("the waveform equals the reference", arguments: VocoderCase.all)
    func parity(_ model: VocoderCase) throws {
        let folder = Fixtures.url("vocoder/\(model.name)")
        let vocoder = try HiFiGANGenerator(directory: folder)
        let input = try Fixtures.tensor("vocoder/\(model.name)/input.npy")
        let expected = try Fixtures.tensor("vocoder/\(model.name)/output.npy")
        let actual = try vocoder(input)
        #expect(actual.shape == [input.shape[0], 1, vocoder.hopLength * input.shape[2]])
        #expect(actual.shape == expected.shape)
        let discrepancy = compare(actual, expected)
        #expect(discrepancy.isWithin(.network), "\(discrepancy)")
    }

    @Test("one unbatched [mels, T] spectrogram gives the batch's first waveform")
    func unbatched() throws {
        let vocoder = try HiFiGANGenerator(directory: Fixtures.url("vocoder/v1"))
        let input = try Fixtures.tensor("vocoder/v1/input.npy")                  // [2, 16, 40]
        let first = input.sliced(axis: 0, 0..<1)
        let single = try vocoder(first.reshaped(Array(first.shape.dropFirst())))  // [16, 40] -> [1, 1, 6400]
        let batched = try vocoder(input)
        #expect(single.shape == [1, 1, 160 * 40])
        #expect(single == batched.sliced(axis: 0, 0..<1))
    }

    @Test("a spectrogram with the wrong number of mel bands is an error")
    func wrongShape() throws {
        let vocoder = try HiFiGANGenerator(directory: Fixtures.url("vocoder/v2"))
        #expect(throws: VocoderError.self) { try vocoder(Tensor.zeros([1, 13, 5])) }
        #expect(throws: VocoderError.self) { try vocoder(Tensor.zeros([12, 0])) }
        #expect(throws: VocoderError.self) { try vocoder(Tensor.zeros([1, 1, 12, 5])) }
    }

    /// The real configuration with ``SyntheticParameters`` on the folded keys, against the same
    /// network in PyTorch built without weight norm (scripts/reference/vocoder_fixtures.py `full_size`).
    static func fullSize() throws -> HiFiGANGenerator {
        let configuration = try HiFiGANConfiguration(contentsOf: Fixtures.url("vocoder/full/config.json"))
        let loader = ParameterLoader(.synthetic)
        let vocoder = try HiFiGANGenerator(configuration: configuration, parameters: loader.root, norm: .folded)
        try loader.finish()
        return vocoder
    }

    @Test("the full-size vocoder on synthetic weights equals the reference on 100 frames")
    func fullSizeParity() throws {
        let input = try Fixtures.tensor("vocoder/full/input.npy")       // [1, 256, 100]
        let expected = try Fixtures.tensor("vocoder/full/output.npy")   // [1, 1, 16000]
        let actual = try Self.fullSize()(input)
        let discrepancy = compare(actual, expected)
        #expect(discrepancy.isWithin(.networkFullSize), "\(discrepancy)")
        // conv_post's bias dominates the energy of this output; judge the part that varies as well.
        let mean = expected.scalars.reduce(0, +) / Float(expected.count)
        let centred = compare(actual.scalars.map { $0 - mean }, expected.scalars.map { $0 - mean })
        #expect(centred.isWithin(.networkFullSize), "centred: \(centred)")
    }

    @Test("time the full-size vocoder on 1,000 frames (set AUFFUSION_TIMING=1)",
          .enabled(if: ProcessInfo.processInfo.environment["AUFFUSION_TIMING"] != nil))
    func fullSizeTiming() throws {
        let vocoder = try Self.fullSize()
        var random = TorchRandomSource(seed: 0)
        let input = random.normal(shape: [1, 256, 1000]) * 2 + (-5)
        let clock = ContinuousClock()
        _ = try vocoder(input.sliced(axis: 2, 0..<10))  // warm-up
        let elapsed = try clock.measure { _ = try vocoder(input) }
        print("vocoder full size, 1000 frames (10 s of audio): \(elapsed)")
    }
}
