import AudioDSP
import Compute
import Editing
import Pipeline
import Testing
import TestSupport

@Suite("Attention maps: aggregate_attention parity, resolutions, heatmaps")
struct AttentionMapsTests {
    @Test("the store case's maps at 4x16 over down/mid/up match aggregate_attention within Tolerance.exact")
    func parity() throws {
        let c = try #require(try PromptToPromptCase.all().first { $0.name == "store" }, "no store case in p2p/cases.json")
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("standard"))
        let store = AttentionStore(layersPerEvaluation: pipeline.unet.attentionLayerCount, promptCount: c.prompts.count)
        var noise = NoiseSource(seed: c.noise_seed)
        _ = try pipeline.promptToPrompt(c.prompts, request: c.request, noise: &noise, controller: store)
        let maps = try CrossAttentionMaps(store: store, resolution: AttentionResolution(height: 4, width: 16))
        let expected = try Fixtures.tensor("p2p/store.maps.npy").permuted([2, 0, 1])   // [4, 16, 77] → [77, 4, 16]
        #expect(maps.maps.shape == expected.shape)
        let discrepancy = compare(maps.maps.scalars, expected.scalars)
        #expect(discrepancy.isWithin(.exact), "\(discrepancy)")

        #expect(throws: AttentionMapError.self) {
            try CrossAttentionMaps(store: store, resolution: AttentionResolution(height: 3, width: 7))
        }
        #expect(throws: AttentionMapError.noPrompt(1, promptCount: 1)) {
            try CrossAttentionMaps(store: store, resolution: AttentionResolution(height: 4, width: 16), prompt: 1)
        }
    }

    @Test("resolutions: parsing HxW and the stored levels of Auffusion's 32×128 latents")
    func resolutions() {
        #expect(AttentionResolution("8x32") == AttentionResolution(height: 8, width: 32))
        #expect(AttentionResolution("8X32") == AttentionResolution(height: 8, width: 32))
        for bad in ["8", "x32", "8x", "0x4", "8x32x2", "-4x16"] { #expect(AttentionResolution(bad) == nil, "\(bad)") }
        #expect(AttentionResolution.stored(latentHeight: 32, latentWidth: 128, levels: 4).map(\.description)
                == ["16x64", "8x32", "4x16"])
    }

    @Test("bilinear upsampling keeps constants, interpolates between cell centres and clamps at the borders")
    func upsampling() {
        let constant = AttentionHeatmap.upsampleBilinear(Tensor(shape: [2, 2], repeating: 3), height: 8, width: 8)
        #expect(constant.allSatisfy { $0 == 3 })
        // One row [0, 1] → 4 columns: centres at 0.5 and 2.5 of the output → 0, 0.25, 0.75, 1.
        let ramp = AttentionHeatmap.upsampleBilinear(Tensor(shape: [1, 2], scalars: [0, 1]), height: 1, width: 4)
        #expect(ramp == [0, 0.25, 0.75, 1])
    }

    @Test("a heatmap has the spectrogram's size, and a zero map leaves a dimmed greyscale spectrogram")
    func heatmap() {
        let image = SpectrogramImage(pixels: Tensor(shape: [16, 8], repeating: 1))
        let picture = AttentionHeatmap.render(Tensor.zeros([2, 1]), over: image)
        #expect(picture.width == 8 && picture.height == 16)
        let darkest = [0.050383, 0.029803, 0.527975]   // plasma[0]
        let expected = darkest.map { UInt8((((1 - AttentionHeatmap.opacity) + AttentionHeatmap.opacity * $0) * 255).rounded()) }
        #expect(Array(picture.bytes[0..<3]) == expected)
    }
}
