import Compute
import Foundation
import Weights

/// The denoising network: diffusers' `UNet2DConditionModel` (models/unet_2d_condition.py,
/// diffusers 0.18.2) in the Stable-Diffusion-1.x family Auffusion uses.
///
/// `ε = unet(x_t, t, text)`: the noisy latents `[B, 4, h, w]` (sides divisible by
/// 2^(levels − 1)), one timestep per batch item, and the text embeddings `[B, 77, C_ctx]`.
/// An ``AttentionController`` may observe or rewrite any attention layer's probabilities.
///
/// ```swift
/// let unet = try UNet2DConditionModel(folder: modelFolder.appendingPathComponent("unet"))
/// let noise = try unet(latents, timesteps: [981, 981], context: embeddings)
/// ```
public struct UNet2DConditionModel: Sendable {
    public let configuration: UNetConfiguration
    let conditionIn: Conv2d
    let timeEmbedding: TimestepEmbedding
    let downBlocks: [DownBlock]
    let midBlock: MidBlock?
    let upBlocks: [UpBlock]
    let normOut: GroupNorm
    let conditionOut: Conv2d

    /// The U-Net's 3×3 convolutions go through Winograd's algorithm, with 4×4 output tiles where
    /// the plane has enough of them: they are most of a denoising step's time, and the network
    /// does not amplify the extra rounding (nmse 2e-13 against diffusers at Stable Diffusion's
    /// size, `UNetParityTests`).
    static let convolutionStrategy = Convolution.Strategy.winograd4x4

    /// Builds the network from its configuration, taking every parameter from `parameters`.
    /// - Throws: ``ModelError/unsupportedConfiguration(model:reason:)``.
    public init(configuration c: UNetConfiguration, parameters p: Parameters) throws {
        try c.validate()
        configuration = c
        let channels = c.blockOutChannels, levels = channels.count
        let timeChannels = channels[0] * 4
        conditionIn = Conv2d(p["conv_in"], inputs: c.inChannels, outputs: channels[0], kernel: 3, padding: 1,
                             strategy: UNet2DConditionModel.convolutionStrategy)
        timeEmbedding = TimestepEmbedding(p["time_embedding"], channels: channels[0], embeddingChannels: timeChannels,
                                          flipSinToCos: c.flipSinToCos, frequencyShift: c.frequencyShift)
        downBlocks = (0..<levels).map { i in
            DownBlock(p["down_blocks", i], index: i, inputs: i == 0 ? channels[0] : channels[i - 1], outputs: channels[i],
                      layers: UNetConfiguration.perBlock(c.layersPerBlock, i),
                      crossAttention: c.downBlockTypes[i] == "CrossAttnDownBlock2D",
                      heads: UNetConfiguration.perBlock(c.attentionHeads, i), configuration: c,
                      timeChannels: timeChannels, isFinal: i == levels - 1)
        }
        midBlock = c.midBlockType == nil ? nil : MidBlock(
            p["mid_block"], channels: channels[levels - 1], heads: UNetConfiguration.perBlock(c.attentionHeads, levels - 1),
            configuration: c, timeChannels: timeChannels)
        let reversed = Array(channels.reversed())
        upBlocks = (0..<levels).map { i in
            let mirrored = levels - 1 - i
            return UpBlock(p["up_blocks", i], index: i, previousOutputs: i == 0 ? reversed[0] : reversed[i - 1],
                           outputs: reversed[i], skipInputs: reversed[min(i + 1, levels - 1)],
                           layers: UNetConfiguration.perBlock(c.layersPerBlock, mirrored) + 1,
                           crossAttention: c.upBlockTypes[i] == "CrossAttnUpBlock2D",
                           heads: UNetConfiguration.perBlock(c.attentionHeads, mirrored), configuration: c,
                           timeChannels: timeChannels, isFinal: i == levels - 1)
        }
        normOut = GroupNorm(p["conv_norm_out"], groups: c.normGroups, channels: channels[0], epsilon: c.normEpsilon)
        conditionOut = Conv2d(p["conv_out"], inputs: channels[0], outputs: c.outChannels, kernel: 3, padding: 1,
                              strategy: UNet2DConditionModel.convolutionStrategy)
    }

    /// Loads `config.json` and the weights (`diffusion_pytorch_model{.fp16,}.{safetensors,bin}`)
    /// of a diffusers `unet/` folder.
    /// - Throws: ``ModelError`` for the configuration, `WeightsError` listing every key problem.
    public init(folder: URL) throws {
        let configuration = try ModelFolder.configuration(UNetConfiguration.self, in: folder)
        let names = ModelFolder.diffusersWeightNames()
        guard let file = ModelFolder.firstFile(named: names, in: folder) else {
            throw WeightsError.unreadable(path: folder.path, reason: "no U-Net weights: looked for \(names.joined(separator: ", "))")
        }
        let loader = ParameterLoader(.store(try WeightFile.open(file)))
        try loader.ensureHolds(atLeast: configuration.minimumParameterCount, for: "UNet2DConditionModel")
        try self.init(configuration: configuration, parameters: loader.root)
        try loader.finish()
    }

    /// How many attention layers one forward pass runs (self and cross of every transformer),
    /// the `num_att_layers` prompt-to-prompt controllers count evaluations by.
    public var attentionLayerCount: Int { configuration.attentionLayerCount }

    /// The predicted noise (or `v`) for latents `[B, C_in, h, w]` at one timestep per batch item,
    /// conditioned on `context` `[B, M, C_ctx]`. Returns `[B, C_out, h, w]`.
    /// - Throws: ``ModelError/invalidInput(model:reason:)`` for inconsistent shapes.
    public func callAsFunction(_ sample: Tensor, timesteps: [Float], context: Tensor,
                               controller: (any AttentionController)? = nil) throws -> Tensor {
        var noCache: UNetFeatureCache?
        return try forward(sample, timesteps: timesteps, context: context, controller: controller, storing: &noCache)
    }

    /// The whole network; with a `cache`, the deep features its shallow branch reuses are stored
    /// on the way (the same operations in the same order: the output does not change).
    func forward(_ sample: Tensor, timesteps: [Float], context: Tensor, controller: (any AttentionController)?,
                 storing cache: inout UNetFeatureCache?) throws -> Tensor {
        try validate(sample, timesteps: timesteps, context: context)
        try check(controller, batch: sample.shape[0])
        let twins = hasTwinHalves(sample, timesteps: timesteps, controller: controller)
        let unetContext = UNetContext(timeEmbedding: timeEmbedding(timesteps), textContext: context, controller: controller,
                                      twinHalves: twins)
        var h = conditionIn(twins ? sample.firstHalfOfBatch : sample)
        var skips = [twins ? h.twinned() : h]
        for block in downBlocks { h = block(h, unetContext, skips: &skips) }
        if let midBlock { h = midBlock(h, unetContext) }
        for block in upBlocks.dropLast() { h = block(h, unetContext, skips: &skips) }
        // The last up block has no upsampler; it is run in two parts around the cached input.
        let last = upBlocks[upBlocks.count - 1]
        let split = cache.map { shallowEntryLayer(branch: $0.branch) } ?? 0
        h = last.layers(h, unetContext, skips: &skips, 0..<split)
        cache?.store(h)
        h = last.layers(h, unetContext, skips: &skips, split..<last.resnets.count)
        return conditionOut(normOut(h).silu())
    }

    /// Whether the batch is classifier-free guidance's pair: its second half the same latents at
    /// the same timesteps as its first, only the text differing, and no controller watching.
    /// Everything before the first cross-attention — `conv_in`, the first ResNet, the first of the
    /// top level's self-attentions — is then the same for both halves, and is computed once
    /// (about 4 % of a step at Stable Diffusion's size, docs/compute.md). Every row of every layer is computed independently of the
    /// others, so the output is the same to the bit (`UNetTwinHalvesTests`).
    package func hasTwinHalves(_ sample: Tensor, timesteps: [Float], controller: (any AttentionController)?) -> Bool {
        let batch = sample.shape[0]
        guard controller == nil, batch % 2 == 0, batch > 0, downBlocks.first?.attentions.isEmpty == false,
              timesteps[..<(batch / 2)].elementsEqual(timesteps[(batch / 2)...], by: { $0.bitPattern == $1.bitPattern }) else {
            return false
        }
        let half = sample.scalars.count / 2
        return sample.scalars[..<half].elementsEqual(sample.scalars[half...], by: { $0.bitPattern == $1.bitPattern })
    }

    func validate(_ sample: Tensor, timesteps: [Float], context: Tensor) throws {
        func fail(_ reason: String) -> ModelError { .invalidInput(model: "UNet2DConditionModel", reason: reason) }
        let factor = 1 << (configuration.blockOutChannels.count - 1)
        guard sample.rank == 4, sample.shape[1] == configuration.inChannels else {
            throw fail("latents must be [B, \(configuration.inChannels), h, w], got \(sample.shape)")
        }
        guard sample.shape[2] % factor == 0, sample.shape[3] % factor == 0 else {
            throw fail("latent sides must be multiples of \(factor), got \(sample.shape[2])×\(sample.shape[3])")
        }
        guard timesteps.count == sample.shape[0] else { throw fail("\(timesteps.count) timesteps for a batch of \(sample.shape[0])") }
        guard context.rank == 3, context.shape[0] == sample.shape[0], context.shape[2] == configuration.crossAttentionDimension else {
            throw fail("context must be [\(sample.shape[0]), tokens, \(configuration.crossAttentionDimension)], got \(context.shape)")
        }
    }
}

extension UNet2DConditionModel {
    /// Refuses a controller built for other runs: its prompts must be the batch's rows, or half of
    /// them (guidance), and its layer count this network's.
    func check(_ controller: (any AttentionController)?, batch: Int) throws {
        guard let shape = controller?.runShape else { return }
        guard shape.layersPerEvaluation == attentionLayerCount, batch == shape.promptCount || batch == 2 * shape.promptCount else {
            throw ModelError.invalidInput(model: "UNet2DConditionModel", reason: "the attention controller was built for \(shape); "
                + "this evaluation has a batch of \(batch) and \(attentionLayerCount) attention layers")
        }
    }
}

extension Tensor {
    /// The first half of the batch (axis 0).
    var firstHalfOfBatch: Tensor { sliced(axis: 0, 0..<shape[0] / 2) }

    /// The batch twice over, `[x; x]` along axis 0.
    func twinned() -> Tensor { Tensor(shape: [2 * shape[0]] + shape.dropFirst(), scalars: scalars + scalars) }
}
