import Compute
import Models

/// Cross-attention per token at one resolution, averaged over a run: what the word "rain" looked at.
///
/// Port of Auffusion prompt2prompt/ptp_utils.py `aggregate_attention(prompts, attention_store, res,
/// from_where, is_cross=True, select)` (docs/reference.md §8.5): the store's maps averaged over evaluations
/// (``AttentionStore/averages()``); of every cross-attention layer in `places` whose maps are
/// `res` in size, the maps of prompt `select` for every head; all those heads and layers averaged
/// with equal weight. The reference picks layers by query count (`Npix == r0·r1`) and reshapes
/// row-major; here a layer is picked by its true height and width, which for Auffusion's levels
/// (16×64, 8×32, 4×16) is the same set of layers and the same layout.
public struct CrossAttentionMaps: Sendable {
    public let resolution: AttentionResolution
    /// `[77, height, width]`: the map of every key position (token) of the conditioning.
    public let maps: Tensor

    /// Aggregates the maps of prompt `prompt` in `store`.
    /// - Throws: ``AttentionMapError`` when no stored map has `resolution` or `prompt` is not in the run.
    public init(store: AttentionStore, resolution: AttentionResolution,
                places: Set<AttentionSite.Place> = [.down, .mid, .up], prompt: Int = 0) throws {
        guard (0..<store.promptCount).contains(prompt) else {
            throw AttentionMapError.noPrompt(prompt, promptCount: store.promptCount)
        }
        let cross = store.averages().filter { $0.site.isCrossAttention }
        let chosen = cross.filter {
            places.contains($0.site.place) && $0.site.height == resolution.height && $0.site.width == resolution.width
        }
        guard let first = chosen.first else { throw AttentionMapError.noMaps(resolution, among: cross.map(\.site)) }
        let keys = first.sum.shape[3], pixels = resolution.height * resolution.width
        var total = [Float](repeating: 0, count: pixels * keys)   // [Nq, 77], summed over heads and layers
        var count = 0
        for entry in chosen {
            let item = entry.sum.sliced(axis: 0, prompt..<(prompt + 1)).scalars   // the heads' sum
            for index in 0..<(pixels * keys) { total[index] += item[index] }
            count += entry.heads
        }
        let scale = 1 / Float(count)
        self.resolution = resolution
        maps = Tensor(shape: [pixels, keys], scalars: total.map { $0 * scale })
            .permuted([1, 0]).reshaped([keys, resolution.height, resolution.width])
    }

    /// The map of token position `position`, `[height, width]`.
    public func map(ofToken position: Int) -> Tensor {
        maps.sliced(axis: 0, position..<(position + 1)).reshaped([resolution.height, resolution.width])
    }

    /// The mean of the maps of `positions` (a word's tokens), `[height, width]`.
    public func map(ofTokens positions: [Int]) -> Tensor {
        var sum = Tensor.zeros([resolution.height, resolution.width])
        for position in positions { sum.add(map(ofToken: position)) }
        return sum * (1 / Float(max(positions.count, 1)))
    }
}
