import Compute
import Foundation
import Models
import SyntheticWeights
import Testing
import TestSupport
import Weights

@Suite("HiFi-GAN configuration, weight norm and checkpoint keys")
struct HiFiGANLoadingTests {
    @Test("the real vocoder/config.json decodes to docs/reference.md §2.1, training keys ignored")
    func realConfiguration() throws {
        let configuration = try HiFiGANConfiguration(contentsOf: Fixtures.url("vocoder/full/config.json"))
        #expect(configuration == HiFiGANConfiguration(
            residualBlock: .one, upsampleRates: [5, 4, 4, 2], upsampleKernelSizes: [11, 8, 8, 4],
            upsampleInitialChannel: 512, residualKernelSizes: [3, 7, 11],
            residualDilationSizes: [[1, 3, 5], [1, 3, 5], [1, 3, 5]], melBinCount: 256, sampleRate: 16000))
        #expect(configuration.hopLength == 160)
        #expect((0..<4).map(configuration.channels(afterStage:)) == [256, 128, 64, 32])
        try configuration.validate()
    }

    @Test("a configuration without a required key names it")
    func missingKey() throws {
        let url = try Fixtures.temporaryDirectory().appendingPathComponent("config.json")
        try Data(#"{"resblock": "1", "upsample_rates": [2], "num_mels": 4}"#.utf8).write(to: url)
        #expect(throws: VocoderError.unreadableConfiguration(path: url.path, reason: "no \"upsample_kernel_sizes\" key")) {
            try HiFiGANConfiguration(contentsOf: url)
        }
    }

    /// Edits of the real configuration that PyTorch could not build or run.
    enum Breakage: String, CaseIterable, Sendable {
        case listsOfDifferentLengths, evenResidualKernel, kernelBelowRate, tooFewChannels
        case twoDilationsForResBlock1, threeDilationsForResBlock2

        func apply(to configuration: inout HiFiGANConfiguration) {
            switch self {
            case .listsOfDifferentLengths: configuration.upsampleKernelSizes = [11, 8, 8]
            case .evenResidualKernel: configuration.residualKernelSizes = [3, 6, 11]
            case .kernelBelowRate: configuration.upsampleKernelSizes = [4, 8, 8, 4]
            case .tooFewChannels: configuration.upsampleInitialChannel = 24
            case .twoDilationsForResBlock1: configuration.residualDilationSizes[1] = [1, 3]
            case .threeDilationsForResBlock2: configuration.residualBlock = .two
            }
        }
    }

    @Test("configurations PyTorch could not build or run are refused", arguments: Breakage.allCases)
    func invalid(_ breakage: Breakage) throws {
        var configuration = try HiFiGANConfiguration(contentsOf: Fixtures.url("vocoder/full/config.json"))
        breakage.apply(to: &configuration)
        #expect(throws: VocoderError.self) { try configuration.validate() }
        let loader = ParameterLoader(.synthetic)
        #expect(throws: VocoderError.self) {
            try HiFiGANGenerator(configuration: configuration, parameters: loader.root, norm: .folded)
        }
    }

    @Test("weight norm folds as W = g · v / ‖v‖ over every axis but the first")
    func foldByHand() {
        let direction = Tensor(shape: [2, 1, 2], scalars: [3, 4, 0, -5])
        let magnitude = Tensor(shape: [2, 1, 1], scalars: [10, 2])
        #expect(WeightNorm.fold(magnitude: magnitude, direction: direction).scalars == [6, 8, 0, -2])
    }

    /// The root-sum-square of each slice of axis 0.
    private func sliceNorms(_ tensor: Tensor) -> [Double] {
        let slices = tensor.shape[0], length = tensor.count / slices
        return (0..<slices).map { slice in
            tensor.scalars[slice * length..<(slice + 1) * length].reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        }
    }

    @Test("folding matches torch's remove_weight_norm: per output channel for Conv1d, per input channel for ConvTranspose1d")
    func foldMatchesTorch() throws {
        let separated = try WeightFile.open(Fixtures.url("vocoder/v1/vocoder.pt"))
        let folded = try WeightFile.open(Fixtures.url("vocoder/v1_folded/vocoder.safetensors"))
        #expect(WeightNorm.detect(in: separated) == .separated && WeightNorm.detect(in: folded) == .folded)
        let loader = ParameterLoader(.store(separated))
        let weightKeys = folded.keys.filter { $0.hasSuffix(".weight") }
        #expect(weightKeys.count == 1 + 4 + 4 * 3 * 6 + 1)
        for key in weightKeys {
            let layer = String(key.dropLast(".weight".count))
            let expected = try folded.tensor(key)
            let actual = loader.root[layer].weight(shape: expected.shape, norm: .separated)
            let discrepancy = compare(actual, expected)
            #expect(discrepancy.isWithin(.exact), "\(key): \(discrepancy)")
        }
        // The axis each magnitude belongs to: ups.0 is a ConvTranspose1d [in 32, out 16, k 11]
        // whose g has one entry per input channel; conv_pre a Conv1d [out 32, in 16, k 7].
        for (layer, slices) in [("ups.0", 32), ("conv_pre", 32)] {
            let magnitude = try separated.tensor("\(layer).weight_g")
            #expect(magnitude.shape == [slices, 1, 1])
            let norms = sliceNorms(try folded.tensor("\(layer).weight"))
            for (norm, g) in zip(norms, magnitude.scalars) { #expect(abs(norm - Double(g)) <= 1e-5 * Double(g), "\(layer)") }
        }
    }

    @Test("every missing, unexpected and mis-shaped key is listed at once")
    func keyMismatch() throws {
        let checkpoint = try WeightFile.open(Fixtures.url("vocoder/v1/vocoder.pt"))
        let damaged = try checkpoint.renamed(by: [.skip(prefix: "conv_pre.weight_g"), .skip(prefix: "resblocks.4.convs2.1.bias"),
                                                  .replace("conv_post.", "post.")])
        var configuration = try HiFiGANConfiguration(contentsOf: Fixtures.url("vocoder/v1/config.json"))
        configuration.melBinCount = 17
        #expect(throws: WeightsError.keyMismatch(
            missing: ["conv_post.bias", "conv_post.weight_g", "conv_post.weight_v", "conv_pre.weight_g", "resblocks.4.convs2.1.bias"],
            unexpected: ["post.bias", "post.weight_g", "post.weight_v"],
            misShaped: [ShapeMismatch(key: "conv_pre.weight_v", expected: [32, 17, 7], actual: [32, 16, 7])])) {
            try HiFiGANGenerator(configuration: configuration, store: damaged)
        }
    }

    @Test("a folder without vocoder weights is an error naming what was looked for")
    func missingWeights() throws {
        let folder = try Fixtures.temporaryDirectory()
        try FileManager.default.copyItem(at: Fixtures.url("vocoder/v2/config.json"), to: folder.appendingPathComponent("config.json"))
        #expect(throws: VocoderError.missingWeights(directory: folder.path, candidates: ["vocoder.safetensors", "vocoder.pt"])) {
            try HiFiGANGenerator(directory: folder)
        }
    }
}

/// The int16 samples of Auffusion `Generator.inference`: `(x · 32768.0).astype("int16")[:, :length]`.
@Suite("HiFi-GAN int16 conversion against numpy")
struct HiFiGANInt16Tests {
    struct Cases: Decodable {
        let inputs: [Float]
        let reference: [Int16]
    }

    @Test("samples truncate toward zero as numpy's cast; ±1.0 clamps where numpy wraps")
    func numpyCast() throws {
        let cases = try Fixtures.json(Cases.self, "vocoder/int16.json")
        for (x, reference) in zip(cases.inputs, cases.reference) {
            let sample = HiFiGANGenerator.int16Sample(x)
            switch x {
            case 1: #expect(sample == 32767 && reference == -32768)   // numpy wraps 32768 to −32768
            case -1: #expect(sample == -32768 && reference == -32768)
            default: #expect(sample == reference, "x = \(x)")
            }
        }
        #expect(HiFiGANGenerator.int16Sample(1.5) == 32767)
        #expect(HiFiGANGenerator.int16Sample(-7) == -32768)
        #expect(HiFiGANGenerator.int16Sample(.nan) == 0)
    }

    @Test("waveforms are cut to the requested length, or kept whole when it is longer")
    func trimming() {
        let waveform = Tensor(shape: [2, 1, 4], scalars: [0.5, -0.5, 0.25, 1, 0, 0.75, -0.25, -1])
        #expect(HiFiGANGenerator.int16Samples(waveform, length: 3) == [[16384, -16384, 8192], [0, 24576, -8192]])
        #expect(HiFiGANGenerator.int16Samples(waveform, length: 9) == HiFiGANGenerator.int16Samples(waveform))
        #expect(HiFiGANGenerator.int16Samples(waveform)[0] == [16384, -16384, 8192, 32767])
        #expect(HiFiGANGenerator.int16Samples(waveform, length: 0) == [[], []])
    }

    @Test("int16Waveforms is the vocoder followed by the conversion")
    func inference() throws {
        let vocoder = try HiFiGANGenerator(directory: Fixtures.url("vocoder/v2"))
        let input = try Fixtures.tensor("vocoder/v2/input.npy")
        let samples = try vocoder.int16Waveforms(input, length: 700)
        #expect(samples == HiFiGANGenerator.int16Samples(try vocoder(input), length: 700))
        #expect(samples.map(\.count) == [700])
    }
}
