import Compute

/// The `unet/config.json` of a diffusers `UNet2DConditionModel` (models/unet_2d_condition.py,
/// diffusers 0.18.2), with diffusers' defaults for absent keys. Unknown keys (EMA settings,
/// `_diffusers_version`, …) are ignored.
///
/// `attention_head_dim` keeps diffusers' legacy meaning: it is the number of heads per block
/// (`num_attention_heads`, when given, takes precedence). Both it and `layers_per_block` may be
/// a number or a per-block list.
public struct UNetConfiguration: Codable, Sendable, Equatable, CheckedConfiguration {
    public var inChannels = 4
    public var outChannels = 4
    public var blockOutChannels = [320, 640, 1280, 1280]
    public var downBlockTypes = ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    public var upBlockTypes = ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
    public var midBlockType: String? = "UNetMidBlock2DCrossAttn"
    public var layersPerBlock = [2]
    public var attentionHeads = [8]
    public var crossAttentionDimension = 1280
    public var useLinearProjection = false
    public var normGroups = 32
    public var normEpsilon: Float = 1e-5
    public var flipSinToCos = true
    public var frequencyShift: Float = 0
    public var downsamplePadding = 1
    public var activation = "silu"
    public var onlyCrossAttention = false
    public var upcastAttention = false
    public var classEmbedType: String?
    /// `sample_size`: one number (square latents) or `[height, width]`.
    public var sampleSize: [Int]?

    public init() {}

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels", blockOutChannels = "block_out_channels"
        case downBlockTypes = "down_block_types", upBlockTypes = "up_block_types", midBlockType = "mid_block_type"
        case layersPerBlock = "layers_per_block", attentionHeadDimension = "attention_head_dim"
        case numAttentionHeads = "num_attention_heads", crossAttentionDimension = "cross_attention_dim"
        case useLinearProjection = "use_linear_projection", normGroups = "norm_num_groups", normEpsilon = "norm_eps"
        case flipSinToCos = "flip_sin_to_cos", frequencyShift = "freq_shift", downsamplePadding = "downsample_padding"
        case activation = "act_fn", onlyCrossAttention = "only_cross_attention", upcastAttention = "upcast_attention"
        case classEmbedType = "class_embed_type", sampleSize = "sample_size"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = UNetConfiguration()
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? d.outChannels
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? d.blockOutChannels
        downBlockTypes = try c.decodeIfPresent([String].self, forKey: .downBlockTypes) ?? d.downBlockTypes
        upBlockTypes = try c.decodeIfPresent([String].self, forKey: .upBlockTypes) ?? d.upBlockTypes
        midBlockType = c.contains(.midBlockType) ? try c.decodeIfPresent(String.self, forKey: .midBlockType) : d.midBlockType
        layersPerBlock = try Self.numberOrList(c, .layersPerBlock) ?? d.layersPerBlock
        attentionHeads = try Self.numberOrList(c, .numAttentionHeads) ?? Self.numberOrList(c, .attentionHeadDimension) ?? d.attentionHeads
        crossAttentionDimension = try c.decodeIfPresent(Int.self, forKey: .crossAttentionDimension) ?? d.crossAttentionDimension
        useLinearProjection = try c.decodeIfPresent(Bool.self, forKey: .useLinearProjection) ?? d.useLinearProjection
        normGroups = try c.decodeIfPresent(Int.self, forKey: .normGroups) ?? d.normGroups
        normEpsilon = try c.decodeIfPresent(Float.self, forKey: .normEpsilon) ?? d.normEpsilon
        flipSinToCos = try c.decodeIfPresent(Bool.self, forKey: .flipSinToCos) ?? d.flipSinToCos
        frequencyShift = try c.decodeIfPresent(Float.self, forKey: .frequencyShift) ?? d.frequencyShift
        downsamplePadding = try c.decodeIfPresent(Int.self, forKey: .downsamplePadding) ?? d.downsamplePadding
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? d.activation
        onlyCrossAttention = (try? c.decodeIfPresent(Bool.self, forKey: .onlyCrossAttention)) ?? d.onlyCrossAttention
        upcastAttention = try c.decodeIfPresent(Bool.self, forKey: .upcastAttention) ?? d.upcastAttention
        classEmbedType = try c.decodeIfPresent(String.self, forKey: .classEmbedType)
        if let size = try? c.decodeIfPresent(Int.self, forKey: .sampleSize) {
            sampleSize = [size]
        } else {
            sampleSize = try c.decodeIfPresent([Int].self, forKey: .sampleSize)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(inChannels, forKey: .inChannels)
        try c.encode(outChannels, forKey: .outChannels)
        try c.encode(blockOutChannels, forKey: .blockOutChannels)
        try c.encode(downBlockTypes, forKey: .downBlockTypes)
        try c.encode(upBlockTypes, forKey: .upBlockTypes)
        try c.encode(midBlockType, forKey: .midBlockType)
        try c.encode(layersPerBlock, forKey: .layersPerBlock)
        try c.encode(attentionHeads, forKey: .attentionHeadDimension)
        try c.encode(crossAttentionDimension, forKey: .crossAttentionDimension)
        try c.encode(useLinearProjection, forKey: .useLinearProjection)
        try c.encode(normGroups, forKey: .normGroups)
        try c.encode(normEpsilon, forKey: .normEpsilon)
        try c.encode(flipSinToCos, forKey: .flipSinToCos)
        try c.encode(frequencyShift, forKey: .frequencyShift)
        try c.encode(downsamplePadding, forKey: .downsamplePadding)
        try c.encode(activation, forKey: .activation)
        try c.encode(onlyCrossAttention, forKey: .onlyCrossAttention)
        try c.encode(upcastAttention, forKey: .upcastAttention)
        try c.encodeIfPresent(classEmbedType, forKey: .classEmbedType)
        try c.encodeIfPresent(sampleSize, forKey: .sampleSize)
    }

    private static func numberOrList(_ c: KeyedDecodingContainer<CodingKeys>, _ key: CodingKeys) throws -> [Int]? {
        if let number = try? c.decodeIfPresent(Int.self, forKey: key) { return [number] }
        return try c.decodeIfPresent([Int].self, forKey: key)
    }

    /// The per-block value of a number-or-list setting.
    static func perBlock(_ values: [Int], _ block: Int) -> Int { values.count == 1 ? values[0] : values[block] }

    /// Checks every field before anything is allocated from it: what this port supports, the
    /// ranges of ``FieldBounds`` (listed in docs/reliability.md), and the divisibility the
    /// layers rely on (each level's channels split into `norm_num_groups` groups and into its
    /// heads).
    /// - Throws: ``ModelError/unsupportedConfiguration(model:reason:)`` naming the field.
    public func validate() throws {
        func fail(_ reason: String) -> ModelError { .unsupportedConfiguration(model: "UNet2DConditionModel", reason: reason) }
        try FieldBounds.check("block_out_channels", blockOutChannels, count: 1...8, each: 1...8192, else: fail)
        let levels = blockOutChannels.count
        guard downBlockTypes.count == levels, upBlockTypes.count == levels else {
            throw fail("block_out_channels, down_block_types and up_block_types must have the same length")
        }
        for type in downBlockTypes where !["CrossAttnDownBlock2D", "DownBlock2D"].contains(type) { throw fail("down block \(type.abbreviated())") }
        for type in upBlockTypes where !["CrossAttnUpBlock2D", "UpBlock2D"].contains(type) { throw fail("up block \(type.abbreviated())") }
        if let midBlockType, midBlockType != "UNetMidBlock2DCrossAttn" { throw fail("mid block \(midBlockType.abbreviated())") }
        guard activation == "silu" else { throw fail("act_fn \(activation.abbreviated())") }
        guard classEmbedType == nil else { throw fail("class_embed_type \((classEmbedType ?? "").abbreviated())") }
        guard !onlyCrossAttention else { throw fail("only_cross_attention") }
        try FieldBounds.check("in_channels", inChannels, in: 1...64, else: fail)
        try FieldBounds.check("out_channels", outChannels, in: 1...64, else: fail)
        guard [1, levels].contains(layersPerBlock.count), [1, levels].contains(attentionHeads.count) else {
            throw fail("layers_per_block and attention_head_dim must be a number or one value per block")
        }
        try FieldBounds.check("layers_per_block", layersPerBlock, count: 1...levels, each: 1...16, else: fail)
        try FieldBounds.check("attention_head_dim", attentionHeads, count: 1...levels, each: 1...1024, else: fail)
        try FieldBounds.check("cross_attention_dim", crossAttentionDimension, in: 1...8192, else: fail)
        try FieldBounds.check("norm_num_groups", normGroups, in: 1...1024, else: fail)
        try FieldBounds.check("norm_eps", Double(normEpsilon), in: 1e-12...1, else: fail)
        try FieldBounds.check("freq_shift", Double(frequencyShift), in: 0...1000, else: fail)
        try FieldBounds.check("downsample_padding", downsamplePadding, in: 0...1, else: fail)
        if let sampleSize { try FieldBounds.check("sample_size", sampleSize, count: 1...2, each: 1...4096, else: fail) }
        for (index, channels) in blockOutChannels.enumerated() {
            let heads = Self.perBlock(attentionHeads, index)
            guard channels % normGroups == 0, channels % heads == 0 else {
                throw fail("block \(index): \(channels) channels do not divide into \(normGroups) groups and \(heads) heads")
            }
        }
    }

    /// How many attention layers one forward pass of the network runs (self and cross of every
    /// transformer: `layers` per cross-attention down block, `layers + 1` per cross-attention up
    /// block, one in the mid block), the `num_att_layers` prompt-to-prompt controllers count
    /// evaluations by. Known from the configuration, so without loading any weights.
    public var attentionLayerCount: Int {
        let levels = blockOutChannels.indices
        let down = levels.filter { downBlockTypes[$0] == "CrossAttnDownBlock2D" }.reduce(0) { $0 + Self.perBlock(layersPerBlock, $1) }
        let up = levels.filter { upBlockTypes[$0] == "CrossAttnUpBlock2D" }
            .reduce(0) { $0 + Self.perBlock(layersPerBlock, levels.upperBound - 1 - $1) + 1 }
        return 2 * (down + (midBlockType == nil ? 0 : 1) + up)
    }

    /// The levels (0: the latents' own size, each next one halved) whose down or up block has
    /// cross-attention: where a prompt-to-prompt controller sees maps outside the mid block.
    public var crossAttentionLevels: [Int] {
        let levels = blockOutChannels.indices
        return levels.filter { downBlockTypes[$0] == "CrossAttnDownBlock2D" || upBlockTypes[levels.upperBound - 1 - $0] == "CrossAttnUpBlock2D" }
    }

    /// The branches a DeepCache feature cache may keep: one per layer of the first down block.
    public var featureCacheBranches: Range<Int> { 0..<Self.perBlock(layersPerBlock, 0) }

    /// A lower bound on the parameters the network holds: the 3×3 convolutions of its residual
    /// blocks alone. Loading compares it with what the weight file holds before building
    /// anything, so a configuration that asks for more than the file has is refused without
    /// allocating it. Call after ``validate()``.
    public var minimumParameterCount: Int {
        blockOutChannels.indices.reduce(0) { total, level in
            let squared = 9 * blockOutChannels[level] * blockOutChannels[level]
            // down: `layers` resnets (conv2 is c×c); up: `layers + 1` (conv1 takes at least c, conv2 c×c).
            return total + squared * (Self.perBlock(layersPerBlock, level) + 2 * (Self.perBlock(layersPerBlock, level) + 1))
        }
    }
}
