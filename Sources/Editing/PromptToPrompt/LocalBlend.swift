import Compute
import Models
import Pipeline

/// Confines a prompt-to-prompt edit to where chosen words attend: outside that region the edited
/// prompts' latents are reset to the source's after every step.
///
/// Port of Auffusion prompt2prompt/ptp_utils.py `LocalBlend(prompts, words, threshold=0.3)`
/// (docs/reference.md §8.4), called as `step_callback` on the latents `[P, 4, H, W]` with the run's summed
/// store (its scale cancels in the normalisation):
/// 1. for each prompt, the cross-attention of the down and up layers one level below the latents'
///    halved size (`down_cross[2:4] + up_cross[:3]`: 16×16 for SD's 64×64, 8×32 for Auffusion's
///    32×128), summed over the chosen words' tokens and averaged over layers and heads;
/// 2. max-pooled 3×3 (stride 1, padding 1), resized nearest to `H × W`, divided by its maximum;
/// 3. the mask is `> threshold`, united with the source's (`mask[:1] + mask[1:]`);
/// 4. each edited prompt's latents become `x₀ + m·(xₚ − x₀)`.
///
/// **Difference from the reference:** it reshapes every map as 16×16 (SD-512's square latents), so
/// an 8×32 map is read row-major as a scrambled 16×16 picture; here each map keeps its true
/// `(h, w)`. The reference also broadcasts the mask of prompt 1 to every row, which only works for
/// two prompts; here each edited prompt `p` uses the union of the source's and its own mask.
public struct LocalBlend: Sendable {
    /// `alpha_layers` per prompt: 1 at the tokens of the chosen words, `[P][77]`.
    public let selection: [[Float]]
    public let threshold: Float
    /// The maps' level; nil picks a quarter of the latents' height and width (``defaultResolution(height:width:available:)``).
    public let resolution: AttentionResolution?

    /// - Parameters:
    ///   - words: looked up in every prompt; each must occur in at least one.
    /// - Throws: ``PromptEditError/unknownWord(_:prompt:tokens:)``, ``PromptEditError/invalid(_:)``.
    public init(words: [String], prompts: [PromptTokens], threshold: Float = 0.3,
                resolution: AttentionResolution? = nil) throws {
        guard let target = prompts.last, prompts.count >= 2 else {
            throw PromptEditError.invalid("a local blend needs a source prompt and at least one edited prompt")
        }
        guard !words.isEmpty else { throw PromptEditError.invalid("a local blend needs at least one word") }
        guard (0..<1).contains(threshold) else { throw PromptEditError.invalid("the blend threshold must be in [0, 1), got \(threshold)") }
        var selection = [[Float]](repeating: [Float](repeating: 0, count: PromptTokens.keyCount), count: prompts.count)
        for word in words {
            var found = false
            for (index, prompt) in prompts.enumerated() {
                for position in prompt.positions(of: word) {
                    selection[index][position] = 1
                    found = true
                }
            }
            guard found else { throw PromptEditError.unknownWord(word, prompt: target.prompt, tokens: target.tokenTexts) }
        }
        self.selection = selection
        self.threshold = threshold
        self.resolution = resolution
    }

    /// The blend mask of every prompt, `[P][H·W]` (1 where prompt `p` may differ from the source;
    /// row 0 is the source's own mask).
    /// - Throws: ``AttentionMapError/noMaps(_:available:)``.
    public func masks(store: AttentionStore, height: Int, width: Int) throws -> [[Bool]] {
        let cross = store.entries.filter { $0.site.isCrossAttention && $0.site.place != .mid }
        let size = resolution.map { store.storedResolution(atLevelOf: $0) }
            ?? Self.defaultResolution(height: height, width: width,
                                      available: cross.map { AttentionResolution(height: $0.site.height, width: $0.site.width) })
        let chosen = cross.filter { $0.site.height == size.height && $0.site.width == size.width }
        guard !chosen.isEmpty else { throw AttentionMapError.noMaps(size, among: cross.map(\.site)) }
        let pixels = size.height * size.width
        let own = selection.indices.map { prompt -> [Bool] in
            var map = [Float](repeating: 0, count: pixels)
            var count = 0
            for entry in chosen {
                let keys = entry.sum.shape[3]
                let item = entry.sum.sliced(axis: 0, prompt..<(prompt + 1)).scalars   // the heads' sum
                for pixel in 0..<pixels {
                    for key in 0..<min(keys, PromptTokens.keyCount) where selection[prompt][key] != 0 {
                        map[pixel] += item[pixel * keys + key] * selection[prompt][key]
                    }
                }
                count += entry.heads
            }
            let pooled = Self.maxPool3x3(map.map { $0 / Float(max(count, 1)) }, height: size.height, width: size.width)
            let resized = (0..<(height * width)).map { index in
                pooled[(index / width) * size.height / height * size.width + (index % width) * size.width / width]
            }
            let peak = resized.max() ?? 0
            return resized.map { peak > 0 && $0 / peak > threshold }
        }
        return own.indices.map { prompt in
            prompt == 0 ? own[0] : zip(own[0], own[prompt]).map { $0 || $1 }
        }
    }

    /// `latents` `[P, 4, H, W]` with each edited prompt's latents reset to the source's outside its mask.
    /// - Throws: ``AttentionMapError/noMaps(_:available:)``.
    public func apply(to latents: Tensor, store: AttentionStore) throws -> Tensor {
        let prompts = latents.shape[0], channels = latents.shape[1], height = latents.shape[2], width = latents.shape[3]
        guard prompts == selection.count else {
            throw PromptEditError.invalid("the blend was set up for \(selection.count) prompts, the latents have \(prompts)")
        }
        let masks = try self.masks(store: store, height: height, width: width)
        var result = latents
        let plane = height * width, block = channels * plane
        result.scalars.withUnsafeMutableBufferPointer { values in
            for prompt in 1..<prompts {
                for channel in 0..<channels {
                    for pixel in 0..<plane {
                        let source = values[channel * plane + pixel], index = prompt * block + channel * plane + pixel
                        values[index] = source + (masks[prompt][pixel] ? 1 : 0) * (values[index] - source)
                    }
                }
            }
        }
        return result
    }

    /// The per-step constraint for ``AuffusionPipeline/promptToPrompt(_:request:noise:initialNoise:controller:constraint:progress:)`` and ``EditPass/Attention/blend``,
    /// reading `recorder`'s store.
    public func constraint(reading recorder: any AttentionRecorder) -> DenoiseRun.Constraint {
        { _, latents in try apply(to: latents, store: recorder.attentionStore) }
    }

    /// The per-step constraint of latents denoised in `windows`, one recorder per window: each
    /// step's mask is made from the windows' maps joined over the span
    /// (``AttentionStore/init(joining:windows:)``), so the blend confines the edit across window joins.
    public func constraint(reading recorders: [any AttentionRecorder], windows: LatentWindows) -> DenoiseRun.Constraint {
        { _, latents in try apply(to: latents, store: AttentionStore(joining: recorders.map(\.attentionStore), windows: windows)) }
    }

    /// The maps' level when none is given: a quarter of the latents' height (and width), the
    /// reference's level; a U-Net with fewer levels (the embedded model's 8 × 32 latents keep
    /// 8 × 32 and 4 × 16) uses its smallest stored level instead. The level is found by its
    /// height, since a span joined from windows has its own widths.
    static func defaultResolution(height: Int, width: Int, available: [AttentionResolution]) -> AttentionResolution {
        if let quarter = available.first(where: { $0.height == height / 4 }) { return quarter }
        return available.min { $0.height * $0.width < $1.height * $1.width } ?? AttentionResolution(height: height / 4, width: width / 4)
    }

    /// `max_pool2d(kernel 3, stride 1, padding 1)`: each cell the largest of its in-range neighbours.
    static func maxPool3x3(_ map: [Float], height: Int, width: Int) -> [Float] {
        (0..<(height * width)).map { index in
            let y = index / width, x = index % width
            var best = -Float.infinity
            for dy in -1...1 where (0..<height).contains(y + dy) {
                for dx in -1...1 where (0..<width).contains(x + dx) { best = max(best, map[(y + dy) * width + x + dx]) }
            }
            return best
        }
    }
}
