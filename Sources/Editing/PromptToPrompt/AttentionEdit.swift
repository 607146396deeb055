import Compute
import Models

/// A prompt-to-prompt controller: the source prompt's attention steers the edited prompts'.
///
/// Port of Auffusion prompt2prompt/ptp_utils.py `AttentionControlEdit.forward` (docs/reference.md §8.3), with
/// the cross-attention rule of the subclass given as a ``CrossAttentionEdit``:
/// `AttentionReplace` = ``WordSwap``, `AttentionRefine` = ``Refinement``, `AttentionReweight` =
/// ``Reweighting`` (optionally after a swap or refinement). For the conditional half `[P, H, Nq, Nk]`
/// (prompt 0 the source, 1… edited) at evaluation `s`:
/// - cross-attention: `edited ← edit(base, edited)·α[s] + (1 − α[s])·edited`, α from the
///   ``ReplaceSchedule``;
/// - self-attention, when `s` is in the self range and `Nq ≤ 16²`: `edited ← base`.
/// Maps are stored after the edit, as the reference's in-place edit leaves them in its store.
/// Only the conditional half changes; the unconditional half passes through.
public final class AttentionEdit: AttentionRecorder {
    /// The largest query count at which self-attention is replaced.
    public static let selfReplaceQueryLimit = 16 * 16

    /// The maps of the run (after editing) and the evaluation count.
    public let store: AttentionStore
    public let cross: any CrossAttentionEdit
    private let alphas: [[[Float]]]
    private let selfEvaluations: Range<Int>

    /// - Parameters:
    ///   - cross: the cross-attention rule.
    ///   - prompts: every prompt, the source first.
    ///   - schedule: when to replace.
    ///   - steps: the run's step count N (the schedule has N + 1 rows).
    ///   - layersPerEvaluation: `unet.attentionLayerCount`.
    /// - Throws: ``PromptEditError``.
    public init(cross: any CrossAttentionEdit, prompts: [PromptTokens], schedule: ReplaceSchedule, steps: Int,
                layersPerEvaluation: Int) throws {
        guard prompts.count >= 2 else { throw PromptEditError.invalid("an edit needs a source prompt and at least one edited prompt") }
        try schedule.validate()
        self.cross = cross
        store = AttentionStore(layersPerEvaluation: layersPerEvaluation, promptCount: prompts.count)
        alphas = try schedule.crossAlphas(steps: steps, edited: Array(prompts.dropFirst()))
        selfEvaluations = schedule.selfEvaluations(steps: steps)
    }

    public var attentionStore: AttentionStore { store }

    public var runShape: AttentionRunShape? { store.runShape }

    public func wantsProbabilities(at site: AttentionSite) -> Bool {
        let wants = site.isCrossAttention || replacesSelf(at: site)
        if !wants { store.advance() }
        return wants
    }

    /// Whether the self-attention at `site` is replaced on this evaluation.
    private func replacesSelf(at site: AttentionSite) -> Bool {
        selfEvaluations.contains(store.evaluationCount) && site.queryCount <= Self.selfReplaceQueryLimit
    }

    public func process(_ probabilities: Tensor, at site: AttentionSite) -> Tensor {
        var conditional = store.conditionalHalf(of: probabilities)              // [P, H, Nq, Nk]
        let step = store.evaluationCount
        if site.isCrossAttention {
            conditional = editedCross(conditional, alpha: alphas[min(step, alphas.count - 1)])
        } else if replacesSelf(at: site) {
            conditional = Self.replacingSelf(conditional)
        }
        store.record(conditional, at: site)
        store.advance()
        return store.merging(conditional, into: probabilities)
    }

    /// `[P, H, Nq, Nk]` with prompts 1… blended towards the edit by `alpha[prompt][key]`.
    private func editedCross(_ maps: Tensor, alpha: [[Float]]) -> Tensor {
        let prompts = maps.shape[0], keys = maps.shape[3]
        let base = maps.sliced(axis: 0, 0..<1).reshaped(Array(maps.shape.dropFirst()))   // [H, Nq, Nk]
        let own = maps.sliced(axis: 0, 1..<prompts)                                       // [E, H, Nq, Nk]
        var result = cross.apply(base: base, edited: own)
        let perPrompt = own.count / max(prompts - 1, 1)
        own.scalars.withUnsafeBufferPointer { mine in
            result.scalars.withUnsafeMutableBufferPointer { out in
                for index in 0..<out.count {
                    let a = alpha[index / perPrompt][index % keys]
                    out[index] = out[index] * a + (1 - a) * mine[index]
                }
            }
        }
        return Tensor.concatenated([maps.sliced(axis: 0, 0..<1), result], axis: 0)
    }

    /// `[P, H, Nq, Nk]` with every prompt's maps replaced by prompt 0's.
    private static func replacingSelf(_ maps: Tensor) -> Tensor {
        let base = maps.sliced(axis: 0, 0..<1)
        return Tensor.concatenated(Array(repeating: base, count: maps.shape[0]), axis: 0)
    }
}
