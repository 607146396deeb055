import Compute
import Models

/// A controller that keeps an ``AttentionStore`` of the run (attention maps, local blend).
public protocol AttentionRecorder: AttentionController {
    var attentionStore: AttentionStore { get }
}

/// Records the conditional half of the attention probabilities across a run, and counts U-Net
/// evaluations the way the reference's controllers do.
///
/// Port of Auffusion prompt2prompt/ptp_utils.py `AttentionControl` and `AttentionStore` (spec
/// §8.2): layers are counted in execution order; after `layersPerEvaluation` of them the
/// evaluation count (`cur_step`) advances and the evaluation's maps are added to a running sum, so
/// with PNDM a run of N steps makes N + 1 evaluations. Only the conditional half of the guidance
/// batch `[uncond×P, cond×P]` is kept (the whole batch when guidance is off), and only maps with at
/// most 32² query pixels. The reference also offers every other layer to its controller; here the
/// layers the store does not want still count, through ``wantsProbabilities(at:)``.
///
/// Unlike the reference, the store keeps cross-attention maps only: they are what the word maps and
/// local blend read, while a self-attention map at 32² queries is `[P, heads, 1024, 1024]`, 64 MB
/// for two prompts of 8 heads, per layer and per window of a long clip (a swap of a 10-minute clip
/// held 8.6 GB of them on the embedded model), and made its layer take the slower split attention.
/// Every reader averages the heads of a layer, so a map is kept as their sum, a heads-th of the
/// memory (the sums are the reference's up to float rounding: heads are added before steps).
public final class AttentionStore: AttentionRecorder {
    /// One stored map: where it came from and its probabilities summed over the evaluations and
    /// over the layer's heads, `[P, 1, Nq, Nk]`.
    public struct Entry: Sendable {
        public var site: AttentionSite
        public var sum: Tensor
        /// The heads `sum` adds up: what a mean over heads divides by.
        public var heads: Int
    }

    /// The largest query count whose maps are stored (`attn.shape[1] <= 32 ** 2`).
    public static let storedQueryLimit = 32 * 32

    public let layersPerEvaluation: Int
    public let promptCount: Int
    /// Finished U-Net evaluations (`cur_step`).
    public private(set) var evaluationCount = 0
    /// The running sums, in layer order, over finished evaluations.
    public private(set) var entries: [Entry] = []
    private var layer = 0
    private var current: [Entry] = []

    /// - Parameters:
    ///   - layersPerEvaluation: attention layers per U-Net pass (`unet.attentionLayerCount`).
    ///   - promptCount: P, the prompts denoised together.
    public init(layersPerEvaluation: Int, promptCount: Int) {
        self.layersPerEvaluation = layersPerEvaluation
        self.promptCount = promptCount
    }

    /// A finished store holding `entries`, summed over `evaluationCount` evaluations.
    init(layersPerEvaluation: Int, promptCount: Int, evaluationCount: Int, entries: [Entry]) {
        self.layersPerEvaluation = layersPerEvaluation
        self.promptCount = promptCount
        self.evaluationCount = evaluationCount
        self.entries = entries
    }

    public var attentionStore: AttentionStore { self }

    public var runShape: AttentionRunShape? { AttentionRunShape(promptCount: promptCount, layersPerEvaluation: layersPerEvaluation) }

    public func wantsProbabilities(at site: AttentionSite) -> Bool {
        let wants = wantsMap(at: site)
        if !wants { advance() }
        return wants
    }

    public func process(_ probabilities: Tensor, at site: AttentionSite) -> Tensor {
        record(conditionalHalf(of: probabilities), at: site)
        advance()
        return probabilities
    }

    /// The maps averaged over evaluations (`get_average_attention`), in layer order.
    public func averages() -> [Entry] {
        let scale = 1 / Float(max(evaluationCount, 1))
        return entries.map { Entry(site: $0.site, sum: $0.sum * scale, heads: $0.heads) }
    }

    // MARK: - Bookkeeping shared with the editing controllers

    func wantsMap(at site: AttentionSite) -> Bool { site.isCrossAttention && site.queryCount <= Self.storedQueryLimit }

    /// `[B, H, Nq, Nk]` → the conditional rows `[P, H, Nq, Nk]`.
    func conditionalHalf(of probabilities: Tensor) -> Tensor {
        let batch = probabilities.shape[0]
        return batch == promptCount ? probabilities : probabilities.sliced(axis: 0, (batch - promptCount)..<batch)
    }

    /// `probabilities` with its conditional rows replaced by `conditional`.
    func merging(_ conditional: Tensor, into probabilities: Tensor) -> Tensor {
        let batch = probabilities.shape[0]
        guard batch != promptCount else { return conditional }
        return Tensor.concatenated([probabilities.sliced(axis: 0, 0..<(batch - promptCount)), conditional], axis: 0)
    }

    func record(_ conditional: Tensor, at site: AttentionSite) {
        if wantsMap(at: site) { current.append(Entry(site: site, sum: Self.headSum(conditional), heads: conditional.shape[1])) }
    }

    /// `[P, H, Nq, Nk]` → `[P, 1, Nq, Nk]`, the heads added in order.
    private static func headSum(_ maps: Tensor) -> Tensor {
        let (prompts, heads) = (maps.shape[0], maps.shape[1]), plane = maps.shape[2] * maps.shape[3]
        var sum = [Float](repeating: 0, count: prompts * plane)
        maps.scalars.withUnsafeBufferPointer { values in
            for prompt in 0..<prompts {
                for head in 0..<heads {
                    let from = (prompt * heads + head) * plane, to = prompt * plane
                    for index in 0..<plane { sum[to + index] += values[from + index] }
                }
            }
        }
        return Tensor(shape: [prompts, 1, maps.shape[2], maps.shape[3]], scalars: sum)
    }

    /// Counts one layer; after the last layer of an evaluation, adds its maps to the sums.
    func advance() {
        layer += 1
        guard layer == layersPerEvaluation else { return }
        layer = 0
        evaluationCount += 1
        if entries.isEmpty {
            entries = current
        } else {
            for index in entries.indices where index < current.count { entries[index].sum.add(current[index].sum) }
        }
        current = []
    }
}
