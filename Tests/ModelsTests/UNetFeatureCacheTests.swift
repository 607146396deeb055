import Compute
import Foundation
import Models
import Testing
import TestSupport

/// DeepCache in the U-Net (``UNetFeatureCache``): storing the deep features changes nothing, and
/// the shallow branch is the full network with the deep part replaced by what was stored.
@Suite("U-Net feature cache (DeepCache)")
struct UNetFeatureCacheTests {
    /// The small two-level fixture U-Net: two layers in its first down block, so branches 0 and 1.
    private func model() throws -> (UNet2DConditionModel, Tensor, Tensor) {
        let unet = try UNet2DConditionModel(folder: Fixtures.url("unet/unet_small_linear"))
        var random = TorchRandomSource(seed: 7)
        return (unet, random.normal(shape: [2, 4, 8, 24]), random.normal(shape: [2, 9, 20]))
    }

    private func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

    @Test("the fixture has branches 0 and 1")
    func branches() throws {
        #expect(try model().0.featureCacheBranches == 0..<2)
    }

    @Test("a full evaluation that stores the features returns the plain forward's output bit for bit", arguments: [0, 1])
    func storingChangesNothing(branch: Int) throws {
        let (unet, latents, context) = try model()
        var cache = UNetFeatureCache(branch: branch)
        let plain = try unet(latents, timesteps: [981, 981], context: context)
        let storing = try unet(latents, timesteps: [981, 981], context: context, storingFeaturesIn: &cache)
        #expect(bits(storing) == bits(plain))
        let features = try #require(cache.features)
        // Branch 0 enters the last up block at its layer 1 (full resolution, 16 channels); branch 1
        // at layer 0, on the upsampled output of the block below (24 channels).
        #expect(features.shape == [2, branch == 0 ? 16 : 24, 8, 24])
    }

    @Test("the shallow branch on features stored from the same latents and timestep is the full evaluation, bit for bit",
          arguments: [0, 1])
    func cachedStepIsTheFullStep(branch: Int) throws {
        let (unet, latents, context) = try model()
        var cache = UNetFeatureCache(branch: branch)
        let full = try unet(latents, timesteps: [501, 501], context: context, storingFeaturesIn: &cache)
        let shallow = try unet(latents, timesteps: [501, 501], context: context, reusing: cache)
        #expect(bits(shallow) == bits(full))
    }

    @Test("on other latents the shallow branch reuses the stored deep part: its output differs from a full evaluation and depends on the cache",
          arguments: [0, 1])
    func cachedStepReusesTheDeepPart(branch: Int) throws {
        let (unet, latents, context) = try model()
        var random = TorchRandomSource(seed: 8)
        let next = latents + random.normal(shape: latents.shape) * 0.5
        var old = UNetFeatureCache(branch: branch), fresh = UNetFeatureCache(branch: branch)
        _ = try unet(latents, timesteps: [981, 981], context: context, storingFeaturesIn: &old)
        let full = try unet(next, timesteps: [941, 941], context: context, storingFeaturesIn: &fresh)
        let reused = try unet(next, timesteps: [941, 941], context: context, reusing: old)
        #expect(bits(try unet(next, timesteps: [941, 941], context: context, reusing: fresh)) == bits(full))
        #expect(reused.scalars.allSatisfy { $0.isFinite })
        #expect(compare(reused, full).nmse > 1e-6, "the cached step must not recompute the deep part")
    }

    @Test("keeping the conditional rows of the features equals storing them from the conditional rows alone")
    func conditionalRows() throws {
        let (unet, latents, context) = try model()
        var both = UNetFeatureCache(branch: 0), conditional = UNetFeatureCache(branch: 0)
        _ = try unet(latents, timesteps: [981, 981], context: context, storingFeaturesIn: &both)
        _ = try unet(latents.sliced(axis: 0, 1..<2), timesteps: [981], context: context.sliced(axis: 0, 1..<2),
                     storingFeaturesIn: &conditional)
        both.keepLastRows(1)
        let (kept, alone) = (try #require(both.features), try #require(conditional.features))
        #expect(kept.shape == alone.shape)
        #expect(compare(kept, alone).isWithin(.network), "\(compare(kept, alone))")
    }

    @Test("an empty cache, a cache of other latents and a branch the network lacks are errors that say so")
    func errors() throws {
        let (unet, latents, context) = try model()
        #expect(throws: ModelError.invalidInput(model: "UNet2DConditionModel",
                                                reason: "the feature cache is empty; evaluate the whole network first")) {
            _ = try unet(latents, timesteps: [981, 981], context: context, reusing: UNetFeatureCache(branch: 0))
        }
        var cache = UNetFeatureCache(branch: 0)
        _ = try unet(latents, timesteps: [981, 981], context: context, storingFeaturesIn: &cache)
        #expect(throws: ModelError.self) {
            _ = try unet(latents.sliced(axis: 0, 0..<1), timesteps: [981], context: context.sliced(axis: 0, 0..<1), reusing: cache)
        }
        var deep = UNetFeatureCache(branch: 2)
        #expect {
            _ = try unet(latents, timesteps: [981, 981], context: context, storingFeaturesIn: &deep)
        } throws: { error in
            "\(error)".contains("feature cache branch 2 does not exist; this network has branches 0…1")
        }
    }
}
