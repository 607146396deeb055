import AudioDSP
import Compute
import Editing
import Models
import Pipeline
import Testing
import TestSupport

@Suite("Attention of a span denoised in windows: the windows' maps joined over the span")
struct JoinedAttentionTests {
    /// A cross-attention site 2 × 4 on windows 8 latent columns wide: each map column covers two.
    static let cross = AttentionSite(place: .down, block: 0, layer: 0, isCrossAttention: true, height: 2, width: 4)
    static let selfSite = AttentionSite(place: .down, block: 0, layer: 0, isCrossAttention: false, height: 2, width: 4)

    /// A store of one evaluation whose cross map is `level` × (1, 2 on the second row) × (1, 10 for key 1).
    static func store(level: Float) -> AttentionStore {
        let store = AttentionStore(layersPerEvaluation: 2, promptCount: 1)
        var crossValues: [Float] = []
        for row in 0..<2 {
            for _ in 0..<4 { crossValues += [level * Float(row + 1), level * Float(row + 1) * 10] }
        }
        _ = store.wantsProbabilities(at: cross)
        _ = store.process(Tensor(shape: [1, 1, 8, 2], scalars: crossValues), at: cross)
        _ = store.wantsProbabilities(at: selfSite)
        _ = store.process(Tensor(shape: [1, 1, 8, 8], scalars: [Float](repeating: level, count: 64)), at: selfSite)
        return store
    }

    @Test("two windows over 12 columns (offsets 0 and 4): a 2×4 map becomes 2×6, each window's value where it alone covers, the crossfade's mean over the overlap")
    func crossfadedJoin() throws {
        let windows = LatentWindows(spanWidth: 12, windowWidth: 8)
        #expect(windows.offsets == [0, 4])
        let joined = AttentionStore(joining: [Self.store(level: 1), Self.store(level: 3)], windows: windows)
        let entry = try #require(joined.entries.first)
        #expect(joined.entries.count == 1 && entry.site.isCrossAttention, "the store keeps cross-attention only")
        #expect(entry.site.height == 2 && entry.site.width == 6 && entry.sum.shape == [1, 1, 12, 2])
        // Latent columns 4–7 are shared: the first window's weight falls 3.5/4, 2.5/4, 1.5/4, 0.5/4
        // (column centres), so they hold 1.25, 1.75, 2.25, 2.75; map columns average pairs.
        let expected: [Float] = [1, 1, 1.5, 2.5, 3, 3]
        for row in 0..<2 {
            for key in 0..<2 {
                let values = (0..<6).map { entry.sum.scalars[((row * 6) + $0) * 2 + key] }
                let scale = Float(row + 1) * (key == 0 ? 1 : 10)
                #expect(zip(values, expected).allSatisfy { abs($0 - $1 * scale) < 1e-5 }, "row \(row) key \(key): \(values)")
            }
        }
        #expect(joined.evaluationCount == 1)
        #expect(joined.storedResolution(atLevelOf: AttentionResolution(height: 2, width: 4)) == AttentionResolution(height: 2, width: 6))
        // The height names the level; a height the store does not have is returned as asked (and
        // then refused by whoever reads the maps, naming the levels there are).
        #expect(joined.storedResolution(atLevelOf: AttentionResolution(height: 3, width: 4)) == AttentionResolution(height: 3, width: 4))
    }

    @Test("a span of one window keeps its store's maps as they are")
    func oneWindow() throws {
        let store = Self.store(level: 2)
        let joined = AttentionStore(joining: [store], windows: LatentWindows(spanWidth: 8, windowWidth: 8))
        #expect(joined.entries.map(\.site) == store.entries.map(\.site))
        #expect(zip(joined.entries, store.entries).allSatisfy { $0.sum.scalars == $1.sum.scalars })
        #expect(joined.storedResolution(atLevelOf: AttentionResolution(height: 2, width: 4)) == AttentionResolution(height: 2, width: 4))
    }

    @Test("a swap with a local blend on a clip three canvases long keeps the source's latents outside the final mask, bit for bit, across the window joins")
    func blendAcrossWindows() throws {
        let (pipeline, clip) = try fixtureClip()
        var mean: NoiseSource? = nil
        let threeTimes = AudioBuffer(mono: Array([[Float]](repeating: clip.audio.channels[0], count: 3).joined()),
                                     sampleRate: clip.audio.sampleRate)
        let long = try ClipLatents(encoding: threeTimes, pipeline: pipeline, canvasFrames: 3 * pipeline.canvasFrames, posteriorNoise: &mean)
        let prompts = ["a dog barking", "a cat barking"]
        var request = AttentionControllerTests.request(steps: 6)
        request.guidanceScale = 7.5
        (request.prompt, request.canvasFrames, request.duration) = (prompts[1], nil, nil)
        let blend = try LocalBlend(words: ["dog", "cat"], prompts: LocalBlendTests.tokens(prompts, pipeline),
                                   threshold: LocalBlendTests.threshold, resolution: AttentionResolution(height: 4, width: 256))
        let pass = EditPass.promptEdit(.init(sourcePrompt: prompts[0], edit: PromptEdit(alignment: .swap), blend: blend),
                                       request: request, start: .clip(strength: 0.8))
        var noise = NoiseSource(seed: 3)
        let result = try EditPlan([pass]).run(clip: long, pipeline: pipeline, noise: &noise, renderSource: true)
        let source = try #require(result.source).latents, edited = result.output.latents
        let height = source.shape[2], width = source.shape[3]
        #expect(LatentWindows(spanWidth: width, windowWidth: pipeline.canvasLatentWidth).offsets.count >= 3)
        let store = try #require(result.attentionStore)
        let mask = try blend.masks(store: store, height: height, width: width)[1]
        var changedOutside = 0, changedInside = 0
        for channel in 0..<source.shape[1] {
            for pixel in 0..<(height * width) where source.scalars[channel * height * width + pixel] != edited.scalars[channel * height * width + pixel] {
                if mask[pixel] { changedInside += 1 } else { changedOutside += 1 }
            }
        }
        let outsideCells = mask.filter { !$0 }.count
        #expect(outsideCells > 0 && outsideCells < height * width, "the mask should be partial: \(outsideCells) of \(height * width) outside")
        #expect(changedOutside == 0 && changedInside > 0, "changed outside \(changedOutside), inside \(changedInside)")
    }
}
