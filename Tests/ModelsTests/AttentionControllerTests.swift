import Compute
import Foundation
import Models
import Testing
import TestSupport

/// Records every site it is offered; optionally asks for (and returns unchanged) the probabilities.
private final class RecordingController: AttentionController {
    let wantsAll: Bool
    let runShape: AttentionRunShape?
    var offered: [AttentionSite] = []
    var received: [(AttentionSite, [Int])] = []

    init(wantsAll: Bool, runShape: AttentionRunShape? = nil) {
        self.wantsAll = wantsAll
        self.runShape = runShape
    }

    func wantsProbabilities(at site: AttentionSite) -> Bool {
        offered.append(site)
        return wantsAll
    }

    func process(_ probabilities: Tensor, at site: AttentionSite) -> Tensor {
        received.append((site, probabilities.shape))
        return probabilities
    }
}

/// Sets one token's cross-attention to zero everywhere.
private final class SilencingController: AttentionController {
    var runShape: AttentionRunShape? { nil }
    func wantsProbabilities(at site: AttentionSite) -> Bool { site.isCrossAttention }
    func process(_ probabilities: Tensor, at site: AttentionSite) -> Tensor {
        var edited = probabilities
        let keys = probabilities.shape[3]
        for row in 0..<(probabilities.count / keys) { edited.scalars[row * keys + 1] = 0 }
        return edited
    }
}

@Suite("Attention controller hooks in the U-Net")
struct AttentionControllerTests {
    /// The small two-level fixture U-Net (latents 16×32, cross-attention in down0 and up1).
    private func model() throws -> (UNet2DConditionModel, Tensor, Tensor) {
        let unet = try UNet2DConditionModel(folder: Fixtures.url("unet/unet_small_linear"))
        var random = TorchRandomSource(seed: 5)
        return (unet, random.normal(shape: [2, 4, 8, 24]), random.normal(shape: [2, 9, 20]))
    }

    @Test("every attention layer is offered once per forward, in execution order, with its site")
    func sites() throws {
        let (unet, latents, context) = try model()
        let recorder = RecordingController(wantsAll: true)
        _ = try unet(latents, timesteps: [981, 981], context: context, controller: recorder)
        // unet_small_linear: down0 and down1 have 2 transformers (8×24, 4×12), mid 1 (2×6),
        // up1 and up2 have 3 each (4×12, 8×24); each transformer has self then cross attention.
        var expected: [AttentionSite] = []
        func add(_ place: AttentionSite.Place, _ block: Int, _ layers: Int, _ height: Int, _ width: Int) {
            for layer in 0..<layers {
                for cross in [false, true] {
                    expected.append(AttentionSite(place: place, block: block, layer: layer, isCrossAttention: cross,
                                                  height: height, width: width))
                }
            }
        }
        add(.down, 0, 2, 8, 24); add(.down, 1, 2, 4, 12); add(.mid, 0, 1, 2, 6); add(.up, 1, 3, 4, 12); add(.up, 2, 3, 8, 24)
        #expect(recorder.offered == expected)
        #expect(recorder.received.map(\.0) == expected)
        // Probabilities are [B, heads, Nq, Nk]: self-attention Nk = Nq, cross-attention Nk = 9 tokens.
        for (site, shape) in recorder.received {
            let heads = site.place == .mid ? 8 : (site.height == 8 ? 2 : 4)
            #expect(shape == [2, heads, site.queryCount, site.isCrossAttention ? 9 : site.queryCount], "\(site)")
        }
    }

    @Test("an identity controller changes nothing: the output is bit-identical to no controller")
    func identity() throws {
        let (unet, latents, context) = try model()
        let plain = try unet(latents, timesteps: [981, 981], context: context)
        let observed = try unet(latents, timesteps: [981, 981], context: context, controller: RecordingController(wantsAll: true))
        let declined = try unet(latents, timesteps: [981, 981], context: context, controller: RecordingController(wantsAll: false))
        #expect(observed.scalars.map(\.bitPattern) == plain.scalars.map(\.bitPattern))
        #expect(declined.scalars.map(\.bitPattern) == plain.scalars.map(\.bitPattern))
    }

    @Test("an editing controller changes the output")
    func editing() throws {
        let (unet, latents, context) = try model()
        let plain = try unet(latents, timesteps: [981, 981], context: context)
        let edited = try unet(latents, timesteps: [981, 981], context: context, controller: SilencingController())
        #expect(compare(edited, plain).nmse > 1e-6)
    }

    @Test("a controller built for other runs is refused before any layer runs: other prompts, another layer count")
    func mismatchedRun() throws {
        let (unet, latents, context) = try model()
        func evaluate(batch: Int, shape: AttentionRunShape) throws -> RecordingController {
            let controller = RecordingController(wantsAll: true, runShape: shape)
            let rows = latents.sliced(axis: 0, 0..<1), text = context.sliced(axis: 0, 0..<1)
            _ = try unet(Tensor.concatenated(Array(repeating: rows, count: batch), axis: 0), timesteps: Array(repeating: 981, count: batch),
                         context: Tensor.concatenated(Array(repeating: text, count: batch), axis: 0), controller: controller)
            return controller
        }
        let layers = unet.attentionLayerCount
        let two = AttentionRunShape(promptCount: 2, layersPerEvaluation: layers)
        #expect(try evaluate(batch: 2, shape: two).offered.count == layers)   // two prompts, unguided
        #expect(try evaluate(batch: 4, shape: two).offered.count == layers)   // two prompts, guided
        for (batch, shape) in [(1, two), (3, two), (2, AttentionRunShape(promptCount: 1, layersPerEvaluation: layers + 1))] {
            #expect(throws: ModelError.self, "batch \(batch), \(shape)") { try evaluate(batch: batch, shape: shape) }
        }
        let refused = RecordingController(wantsAll: true, runShape: two)
        _ = try? unet(latents.sliced(axis: 0, 0..<1), timesteps: [981], context: context.sliced(axis: 0, 0..<1), controller: refused)
        #expect(refused.offered.isEmpty)
    }
}
