import AudioDSP
import Compute
import Editing
import Pipeline
import Testing
import TestSupport

@Suite("Attention maps: aggregate_attention parity, resolutions")
struct AttentionMapsTests {
    @Test("the store case's maps at 4x16 over down/mid/up match aggregate_attention within Tolerance.exact")
    func parity() throws {
        let c = try #require(try PromptToPromptCase.all().first { $0.name == "store" }, "no store case in p2p/cases.json")
        let pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("standard"))
        let store = AttentionStore(layersPerEvaluation: pipeline.unetConfiguration.attentionLayerCount, promptCount: c.prompts.count)
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
}
