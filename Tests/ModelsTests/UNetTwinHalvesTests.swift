import Compute
import Foundation
import Models
import Testing
import TestSupport

/// Classifier-free guidance evaluates the U-Net on `[x, x]` with two texts; what comes before the
/// first cross-attention is computed once for both halves. The output must be what each half
/// gives alone, to the bit.
@Suite("U-Net: the two halves of a guided batch share their first layers")
struct UNetTwinHalvesTests {
    private func bits(_ tensor: Tensor) -> [UInt32] { tensor.scalars.map(\.bitPattern) }

    /// A guided batch `[x, x]` at one timestep with two contexts, and each half on its own.
    private func guidedBatch(_ unet: UNet2DConditionModel, seed: UInt64) -> (latents: Tensor, context: Tensor, half: Tensor, contexts: [Tensor]) {
        var random = TorchRandomSource(seed: seed)
        let c = unet.configuration
        let half = random.normal(shape: [1, c.inChannels, 8, 24])
        let contexts = [random.normal(shape: [1, 9, c.crossAttentionDimension]), random.normal(shape: [1, 9, c.crossAttentionDimension])]
        return (Tensor.concatenated([half, half], axis: 0), Tensor.concatenated(contexts, axis: 0), half, contexts)
    }

    @Test("a guided batch is recognised, and only it: equal latents and timesteps, no controller",
          arguments: ["unet_small_linear", "unet_small_conv"])
    func recognised(folder: String) throws {
        let unet = try UNet2DConditionModel(folder: Fixtures.url("unet/\(folder)"))
        let (latents, _, half, _) = guidedBatch(unet, seed: 3)
        #expect(unet.hasTwinHalves(latents, timesteps: [981, 981], controller: nil))
        #expect(!unet.hasTwinHalves(latents, timesteps: [981, 961], controller: nil))
        #expect(!unet.hasTwinHalves(latents, timesteps: [981, 981], controller: Watcher()))
        #expect(!unet.hasTwinHalves(half, timesteps: [981], controller: nil))
        var other = latents
        other.scalars[other.scalars.count - 1] = other.scalars[other.scalars.count - 1].nextUp
        #expect(!unet.hasTwinHalves(other, timesteps: [981, 981], controller: nil))
        var signed = latents
        signed.scalars[0] = 0
        signed.scalars[signed.scalars.count / 2] = -0.0
        #expect(!unet.hasTwinHalves(signed, timesteps: [981, 981], controller: nil), "−0 is not +0 to the bit")
    }

    @Test("the shared evaluation equals each half evaluated alone, bit for bit",
          arguments: ["unet_small_linear", "unet_small_conv"])
    func sameBits(folder: String) throws {
        let unet = try UNet2DConditionModel(folder: Fixtures.url("unet/\(folder)"))
        let (latents, context, half, contexts) = guidedBatch(unet, seed: 5)
        let shared = try unet(latents, timesteps: [501, 501], context: context)
        let alone = try contexts.map { try unet(half, timesteps: [501], context: $0) }
        #expect(bits(shared) == bits(Tensor.concatenated(alone, axis: 0)))
        // Without the sharing (a controller turns it off) the rows are computed independently too:
        // no layer chooses its algorithm by the batch's size.
        let unshared = try unet(latents, timesteps: [501, 501], context: context, controller: Watcher())
        #expect(bits(unshared) == bits(Tensor.concatenated(alone, axis: 0)))
        // The halves differ through the text: the cross-attention ran on each.
        #expect(bits(alone[0]) != bits(alone[1]))
    }

    @Test("with the feature cache, storing and reusing on a guided batch equal each half alone, bit for bit", arguments: [0, 1])
    func featureCache(branch: Int) throws {
        let unet = try UNet2DConditionModel(folder: Fixtures.url("unet/unet_small_linear"))
        let (latents, context, half, contexts) = guidedBatch(unet, seed: 9)
        var random = TorchRandomSource(seed: 10)
        let next = half + random.normal(shape: half.shape) * 0.5
        var cache = UNetFeatureCache(branch: branch)
        let full = try unet(latents, timesteps: [981, 981], context: context, storingFeaturesIn: &cache)
        let shallow = try unet(Tensor.concatenated([next, next], axis: 0), timesteps: [941, 941], context: context, reusing: cache)
        var fullAlone: [Tensor] = [], shallowAlone: [Tensor] = []
        for text in contexts {
            var own = UNetFeatureCache(branch: branch)
            fullAlone.append(try unet(half, timesteps: [981], context: text, storingFeaturesIn: &own))
            shallowAlone.append(try unet(next, timesteps: [941], context: text, reusing: own))
        }
        #expect(bits(full) == bits(Tensor.concatenated(fullAlone, axis: 0)))
        #expect(bits(shallow) == bits(Tensor.concatenated(shallowAlone, axis: 0)))
    }
}

/// A controller that watches nothing; its presence alone turns the sharing off.
private final class Watcher: AttentionController {
    var runShape: AttentionRunShape? { nil }
    func wantsProbabilities(at site: AttentionSite) -> Bool { false }
    func process(_ probabilities: Tensor, at site: AttentionSite) -> Tensor { probabilities }
}
