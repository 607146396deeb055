import Compute
import Foundation
import Models
import SyntheticWeights
import Testing

/// What keeps a generation's peak memory down must not change a number: the feed-forward taken in
/// pieces of tokens is the one-pass product bit for bit, an activation of a temporary computed in
/// its own storage is the copying one's and leaves a shared tensor alone, and what prompt-to-prompt and DeepCache
/// need of the U-Net's layout is known from its configuration, before its weights are loaded.
@Suite("Peak memory: the same numbers")
struct PeakMemoryTests {
    @Test("the feed-forward in pieces of tokens equals one pass over all of them, bit for bit",
          arguments: [(320, 2 * 4096), (640, 2 * 1024 + 7)])
    func feedForwardPieces(width: Int, tokens: Int) {
        let loader = ParameterLoader(.synthetic)
        let feedForward = FeedForward(loader.root["ff"], width: width)
        let projection = Linear(loader.root["ff"]["net", 0]["proj"], inputs: width, outputs: 8 * width)
        let output = Linear(loader.root["ff"]["net", 2], inputs: 4 * width, outputs: width)
        var random = MersenneTwister(seed: 7)
        let x = Tensor(shape: [1, tokens, width], scalars: (0..<tokens * width).map { _ in Float(random.next()) / Float(UInt32.max) * 2 - 1 })
        let onePass = output(projection(x).gatedGELU())
        #expect(feedForward(x).shape == onePass.shape)
        #expect(feedForward(x).scalars.map(\.bitPattern) == onePass.scalars.map(\.bitPattern))
    }

    @Test("an activation works in place on a temporary and on a copy of a shared tensor, to the same bits")
    func activationInPlace() {
        let scalars = (0..<1000).map { Float($0) / 50 - 10 }
        let shared = Tensor(shape: [10, 100], scalars: scalars)
        let copied = shared.silu()
        #expect(shared.scalars == scalars)      // the input is untouched
        let inPlace = Tensor(shape: [10, 100], scalars: scalars).silu()
        #expect(inPlace.scalars.map(\.bitPattern) == copied.scalars.map(\.bitPattern))
        #expect(shared.leakyReLU().scalars == scalars.map { $0 >= 0 ? $0 : $0 * 0.01 })
    }

    @Test("Stable Diffusion 1.5's U-Net: 32 attention layers and 2 DeepCache branches, from the configuration alone")
    func layoutFromConfiguration() throws {
        let configuration = UNetConfiguration()     // the defaults are Stable Diffusion 1.5's (the released Auffusion U-Net)
        #expect(configuration.attentionLayerCount == 32)
        #expect(configuration.featureCacheBranches == 0..<2)
        var twoLevels = configuration
        twoLevels.blockOutChannels = [32, 64]
        twoLevels.downBlockTypes = ["CrossAttnDownBlock2D", "DownBlock2D"]
        twoLevels.upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D"]
        twoLevels.layersPerBlock = [1, 3]
        twoLevels.attentionHeads = [2]
        twoLevels.normGroups = 8
        twoLevels.crossAttentionDimension = 16
        // The layers a forward pass actually runs, counted as a controller sees them.
        let unet = try UNet2DConditionModel(configuration: twoLevels, parameters: ParameterLoader(.synthetic).root)
        let counter = SiteCounter()
        _ = try unet(.zeros([1, 4, 8, 8]), timesteps: [10], context: .zeros([1, 3, 16]), controller: counter)
        #expect(counter.sites.count == 2 * (1 + 1 + 2))     // down 1, mid 1, up 1 + 1; self and cross each
        #expect(twoLevels.attentionLayerCount == counter.sites.count)
        #expect(twoLevels.featureCacheBranches == 0..<1)
    }
}

/// Counts the attention layers a forward pass runs.
private final class SiteCounter: AttentionController {
    var runShape: AttentionRunShape? { nil }
    var sites: [AttentionSite] = []
    func wantsProbabilities(at site: AttentionSite) -> Bool {
        sites.append(site)
        return false
    }
    func process(_ probabilities: Tensor, at site: AttentionSite) -> Tensor { probabilities }
}
