import Compute

/// What the U-Net's blocks share during one forward pass.
struct UNetContext {
    let timeEmbedding: Tensor                         // [B, T]
    let textContext: Tensor                           // [B, M, C_ctx]
    let controller: (any AttentionController)?
    /// Whether the batch is two identical halves up to the text (``UNet2DConditionModel/hasTwinHalves(_:timesteps:controller:)``):
    /// the first down block's first layer then receives the first half only, and returns both.
    var twinHalves = false

    /// The time embedding of the first half of the batch.
    var halfTimeEmbedding: Tensor { timeEmbedding.firstHalfOfBatch }
}

/// diffusers' `CrossAttnDownBlock2D` / `DownBlock2D` (models/unet_2d_blocks.py): `layers`
/// × (resnet, optional transformer), then an optional stride-2 downsampler. Every layer's
/// output, and the downsampler's, is pushed on the skip stack.
/// Keys: `resnets.j`, `attentions.j`, `downsamplers.0`.
struct DownBlock: Sendable {
    let index: Int
    let resnets: [ResnetBlock2D]
    let attentions: [Transformer2D]
    let downsampler: Downsample2D?

    init(_ parameters: Parameters, index: Int, inputs: Int, outputs: Int, layers: Int, crossAttention: Bool,
         heads: Int, configuration c: UNetConfiguration, timeChannels: Int, isFinal: Bool) {
        self.index = index
        resnets = (0..<layers).map { j in
            ResnetBlock2D(parameters["resnets", j], inputs: j == 0 ? inputs : outputs, outputs: outputs,
                          timeEmbeddingChannels: timeChannels, groups: c.normGroups, epsilon: c.normEpsilon,
                          strategy: UNet2DConditionModel.convolutionStrategy)
        }
        attentions = crossAttention ? (0..<layers).map { j in
            Transformer2D(parameters["attentions", j], channels: outputs, heads: heads,
                          contextWidth: c.crossAttentionDimension, groups: c.normGroups)
        } : []
        downsampler = isFinal ? nil : Downsample2D(parameters["downsamplers", 0], channels: outputs, padding: c.downsamplePadding)
    }

    func callAsFunction(_ x: Tensor, _ context: UNetContext, skips: inout [Tensor]) -> Tensor {
        var h = layers(x, context, skips: &skips, through: resnets.count - 1)
        if let downsampler {
            h = downsampler(h)
            skips.append(h)
        }
        return h
    }

    /// Layers 0…`last` (resnet, transformer) only, each output pushed on the skip stack: the
    /// whole block but its downsampler, or the first layers of DeepCache's shallow branch.
    func layers(_ x: Tensor, _ context: UNetContext, skips: inout [Tensor], through last: Int) -> Tensor {
        var h = x
        for j in 0...last {
            // Twin halves: `x` is the first half, shared up to the first cross-attention.
            let twinHalf = context.twinHalves && index == 0 && j == 0
            h = resnets[j](h, timeEmbedding: twinHalf ? context.halfTimeEmbedding : context.timeEmbedding)
            if !attentions.isEmpty {
                let site = AttentionSite(place: .down, block: index, layer: j, isCrossAttention: false, height: 0, width: 0)
                h = attentions[j](h, context: context.textContext, site: site, controller: context.controller, twinHalf: twinHalf)
            }
            skips.append(h)
        }
        return h
    }
}

/// diffusers' `UNetMidBlock2DCrossAttn`: resnet, then (transformer, resnet) once.
/// Keys: `resnets.0`, `attentions.0`, `resnets.1`.
struct MidBlock: Sendable {
    let first: ResnetBlock2D
    let attention: Transformer2D
    let second: ResnetBlock2D

    init(_ parameters: Parameters, channels: Int, heads: Int, configuration c: UNetConfiguration, timeChannels: Int) {
        first = ResnetBlock2D(parameters["resnets", 0], inputs: channels, outputs: channels,
                              timeEmbeddingChannels: timeChannels, groups: c.normGroups, epsilon: c.normEpsilon,
                              strategy: UNet2DConditionModel.convolutionStrategy)
        attention = Transformer2D(parameters["attentions", 0], channels: channels, heads: heads,
                                  contextWidth: c.crossAttentionDimension, groups: c.normGroups)
        second = ResnetBlock2D(parameters["resnets", 1], inputs: channels, outputs: channels,
                               timeEmbeddingChannels: timeChannels, groups: c.normGroups, epsilon: c.normEpsilon,
                               strategy: UNet2DConditionModel.convolutionStrategy)
    }

    func callAsFunction(_ x: Tensor, _ context: UNetContext) -> Tensor {
        let site = AttentionSite(place: .mid, block: 0, layer: 0, isCrossAttention: false, height: 0, width: 0)
        let h = attention(first(x, timeEmbedding: context.timeEmbedding), context: context.textContext,
                          site: site, controller: context.controller)
        return second(h, timeEmbedding: context.timeEmbedding)
    }
}

/// diffusers' `CrossAttnUpBlock2D` / `UpBlock2D`: `layers` × (concatenate the newest skip
/// after the features along channels, resnet, optional transformer), then an optional
/// nearest ×2 upsampler. Keys: `resnets.j`, `attentions.j`, `upsamplers.0`.
struct UpBlock: Sendable {
    let index: Int
    let resnets: [ResnetBlock2D]
    let attentions: [Transformer2D]
    let upsampler: Upsample2D?

    /// - Parameters:
    ///   - previousOutputs: channels arriving from the block below.
    ///   - skipInputs: channels of the down level this block mirrors (its last skip).
    init(_ parameters: Parameters, index: Int, previousOutputs: Int, outputs: Int, skipInputs: Int, layers: Int,
         crossAttention: Bool, heads: Int, configuration c: UNetConfiguration, timeChannels: Int, isFinal: Bool) {
        self.index = index
        resnets = (0..<layers).map { j in
            let skip = j == layers - 1 ? skipInputs : outputs
            let incoming = j == 0 ? previousOutputs : outputs
            return ResnetBlock2D(parameters["resnets", j], inputs: incoming + skip, outputs: outputs,
                                 timeEmbeddingChannels: timeChannels, groups: c.normGroups, epsilon: c.normEpsilon,
                                 strategy: UNet2DConditionModel.convolutionStrategy)
        }
        attentions = crossAttention ? (0..<layers).map { j in
            Transformer2D(parameters["attentions", j], channels: outputs, heads: heads,
                          contextWidth: c.crossAttentionDimension, groups: c.normGroups)
        } : []
        upsampler = isFinal ? nil : Upsample2D(parameters["upsamplers", 0], channels: outputs)
    }

    func callAsFunction(_ x: Tensor, _ context: UNetContext, skips: inout [Tensor]) -> Tensor {
        let h = layers(x, context, skips: &skips, resnets.indices)
        return upsampler.map { $0(h) } ?? h
    }

    /// Layers `range` (concatenate the newest skip, resnet, transformer) only, without the
    /// upsampler: the whole block in one range, or split where DeepCache stores or reuses features.
    func layers(_ x: Tensor, _ context: UNetContext, skips: inout [Tensor], _ range: Range<Int>) -> Tensor {
        var h = x
        for j in range {
            let skip = skips.removeLast()
            h = resnets[j](Tensor.concatenated([h, skip], axis: 1), timeEmbedding: context.timeEmbedding)   // [B, C_h + C_skip, H, W]
            if !attentions.isEmpty {
                let site = AttentionSite(place: .up, block: index, layer: j, isCrossAttention: false, height: 0, width: 0)
                h = attentions[j](h, context: context.textContext, site: site, controller: context.controller)
            }
        }
        return h
    }
}
