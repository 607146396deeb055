import Compute

/// The deep features of one U-Net evaluation, kept for the next steps' shallow evaluations:
/// DeepCache (Ma, Fang & Wang, CVPR 2024, §3.2–3.3; github.com/horseee/DeepCache).
///
/// Adjacent denoising steps change the U-Net's deep (low-resolution) features little. A full
/// evaluation stores the input that the last up block's shallow layers receive from the levels
/// below — the skip branch of depth ``branch`` — and the steps until the next full evaluation
/// run only that branch: `conv_in`, the first down block's layers 0…`branch` (whose outputs are
/// the skips the branch consumes), the last up block's last `branch + 2` layers on the stored
/// features, and `conv_out`. Everything deeper is reused, so its attention layers neither run
/// nor see a controller on those steps.
///
/// One cache serves one stream of latents of one shape: a run of several windows keeps one per
/// window.
public struct UNetFeatureCache: Sendable {
    /// Which skip branch is kept: 0 is the shallowest (one layer of the first down block), up to
    /// the first down block's layer count − 1 (``UNet2DConditionModel/featureCacheBranches``).
    public let branch: Int
    /// The stored features `[B, C, h, w]` (full resolution), `nil` before the first full evaluation.
    public private(set) var features: Tensor?

    public init(branch: Int) {
        self.branch = branch
    }

    mutating func store(_ features: Tensor) { self.features = features }

    /// Keeps the last `count` batch rows of the stored features: when classifier-free guidance
    /// stops, `[unconditional…, conditional…]` becomes `[conditional…]`, and each row of the
    /// U-Net is computed independently of the others, so the conditional rows are what a
    /// conditional-only evaluation would have stored.
    public mutating func keepLastRows(_ count: Int) {
        guard let features, features.shape[0] > count else { return }
        self.features = features.sliced(axis: 0, (features.shape[0] - count)..<features.shape[0])
    }
}

extension UNet2DConditionModel {
    /// The branches a ``UNetFeatureCache`` may keep: one per layer of the first down block.
    public var featureCacheBranches: Range<Int> { configuration.featureCacheBranches }

    /// The layer of the last up block at which the shallow branch of depth `branch` enters:
    /// it consumes `conv_in`'s output and the first down block's layers 0…`branch`, the skips of
    /// its last `branch + 2` layers.
    func shallowEntryLayer(branch: Int) -> Int { upBlocks[upBlocks.count - 1].resnets.count - 2 - branch }

    /// The full network, as ``callAsFunction(_:timesteps:context:controller:)``, storing in
    /// `cache` the deep features its shallow branch reuses. Returns `[B, C_out, h, w]`.
    /// - Throws: ``ModelError/invalidInput(model:reason:)`` for inconsistent shapes or a branch
    ///   the network does not have.
    public func callAsFunction(_ sample: Tensor, timesteps: [Float], context: Tensor, controller: (any AttentionController)? = nil,
                               storingFeaturesIn cache: inout UNetFeatureCache) throws -> Tensor {
        try validate(branch: cache.branch)
        var stored: UNetFeatureCache? = cache
        let output = try forward(sample, timesteps: timesteps, context: context, controller: controller, storing: &stored)
        cache = stored ?? cache
        return output
    }

    /// The shallow branch only (see ``UNetFeatureCache``) on latents `[B, C_in, h, w]` of the
    /// shape the cache was filled from, reusing its deep features. Returns `[B, C_out, h, w]`.
    /// Cost: a fraction of a full evaluation that shrinks with the branch (docs/compute.md).
    /// - Throws: ``ModelError/invalidInput(model:reason:)`` for an empty cache or one filled
    ///   from latents of another shape.
    public func callAsFunction(_ sample: Tensor, timesteps: [Float], context: Tensor,
                               reusing cache: UNetFeatureCache) throws -> Tensor {
        try validate(sample, timesteps: timesteps, context: context)
        try validate(branch: cache.branch)
        guard let features = cache.features else {
            throw ModelError.invalidInput(model: "UNet2DConditionModel", reason: "the feature cache is empty; evaluate the whole network first")
        }
        guard features.shape[0] == sample.shape[0], features.shape[2] == sample.shape[2], features.shape[3] == sample.shape[3] else {
            throw ModelError.invalidInput(model: "UNet2DConditionModel",
                                          reason: "the feature cache holds \(features.shape) for latents \(sample.shape)")
        }
        let twins = hasTwinHalves(sample, timesteps: timesteps, controller: nil)
        let unetContext = UNetContext(timeEmbedding: timeEmbedding(timesteps), textContext: context, controller: nil,
                                      twinHalves: twins)
        let h = conditionIn(twins ? sample.firstHalfOfBatch : sample)                     // [B (or B/2), C₀, h, w]
        var skips = [twins ? h.twinned() : h]
        _ = downBlocks[0].layers(h, unetContext, skips: &skips, through: cache.branch)
        let last = upBlocks[upBlocks.count - 1]
        let output = last.layers(features, unetContext, skips: &skips, shallowEntryLayer(branch: cache.branch)..<last.resnets.count)
        return conditionOut(normOut(output).silu())
    }

    private func validate(branch: Int) throws {
        guard featureCacheBranches.contains(branch) else {
            throw ModelError.invalidInput(model: "UNet2DConditionModel", reason: """
                feature cache branch \(branch) does not exist; this network has branches \
                \(featureCacheBranches.lowerBound)…\(featureCacheBranches.upperBound - 1)
                """)
        }
    }
}
