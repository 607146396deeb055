import Compute
import Foundation

/// The `vae/config.json` of a diffusers `AutoencoderKL` (models/autoencoder_kl.py, diffusers
/// 0.18.2), with diffusers' constructor defaults for absent keys. Unknown keys
/// (`_class_name`, `_diffusers_version`, `force_upcast`, …) are ignored.
///
/// `sample_size` may be a number or a `[height, width]` list; it only sizes diffusers' tiled
/// decoding, which this port does not do. `scaling_factor` is kept in double precision, as the
/// JSON holds it; see ``AutoencoderKL`` for who applies it.
///
/// ```swift
/// let configuration = try AutoencoderConfiguration(contentsOf: folder.appending(path: "vae/config.json"))
/// configuration.downsamplingFactor   // 8 for the Stable Diffusion VAE
/// ```
public struct AutoencoderConfiguration: Codable, Sendable, Equatable, CheckedConfiguration {
    public var inChannels = 3
    public var outChannels = 3
    public var downBlockTypes = ["DownEncoderBlock2D"]
    public var upBlockTypes = ["UpDecoderBlock2D"]
    public var blockOutChannels = [64]
    public var layersPerBlock = 1
    public var activation = "silu"
    public var latentChannels = 4
    public var normGroups = 32
    public var sampleSize = [32]
    public var scalingFactor = 0.18215

    /// diffusers' defaults (a one-level, 64-channel autoencoder).
    public init() {}

    /// The Stable Diffusion VAE that Auffusion ships (docs/reference.md §5.1): `[128, 256, 512, 512]`,
    /// 2 layers per block, 32 groups, 4 latent channels, scaling factor 0.18215.
    public static let stableDiffusion: AutoencoderConfiguration = {
        var configuration = AutoencoderConfiguration()
        configuration.blockOutChannels = [128, 256, 512, 512]
        configuration.downBlockTypes = Array(repeating: "DownEncoderBlock2D", count: 4)
        configuration.upBlockTypes = Array(repeating: "UpDecoderBlock2D", count: 4)
        configuration.layersPerBlock = 2
        configuration.sampleSize = [512]
        return configuration
    }()

    enum CodingKeys: String, CodingKey {
        case inChannels = "in_channels", outChannels = "out_channels"
        case downBlockTypes = "down_block_types", upBlockTypes = "up_block_types"
        case blockOutChannels = "block_out_channels", layersPerBlock = "layers_per_block"
        case activation = "act_fn", latentChannels = "latent_channels", normGroups = "norm_num_groups"
        case sampleSize = "sample_size", scalingFactor = "scaling_factor"
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let d = AutoencoderConfiguration()
        inChannels = try c.decodeIfPresent(Int.self, forKey: .inChannels) ?? d.inChannels
        outChannels = try c.decodeIfPresent(Int.self, forKey: .outChannels) ?? d.outChannels
        downBlockTypes = try c.decodeIfPresent([String].self, forKey: .downBlockTypes) ?? d.downBlockTypes
        upBlockTypes = try c.decodeIfPresent([String].self, forKey: .upBlockTypes) ?? d.upBlockTypes
        blockOutChannels = try c.decodeIfPresent([Int].self, forKey: .blockOutChannels) ?? d.blockOutChannels
        layersPerBlock = try c.decodeIfPresent(Int.self, forKey: .layersPerBlock) ?? d.layersPerBlock
        activation = try c.decodeIfPresent(String.self, forKey: .activation) ?? d.activation
        latentChannels = try c.decodeIfPresent(Int.self, forKey: .latentChannels) ?? d.latentChannels
        normGroups = try c.decodeIfPresent(Int.self, forKey: .normGroups) ?? d.normGroups
        if let size = try? c.decodeIfPresent(Int.self, forKey: .sampleSize) {
            sampleSize = [size]
        } else {
            sampleSize = try c.decodeIfPresent([Int].self, forKey: .sampleSize) ?? d.sampleSize
        }
        scalingFactor = try c.decodeIfPresent(Double.self, forKey: .scalingFactor) ?? d.scalingFactor
    }

    /// Reads and validates a `config.json`.
    /// - Throws: ``ModelError/unreadableConfiguration(path:reason:)`` if the file is missing,
    ///   is not a JSON object with values of the right types, or has a field out of range.
    public init(contentsOf url: URL) throws {
        self = try ModelFolder.configuration(Self.self, in: url.deletingLastPathComponent(), file: url.lastPathComponent)
    }

    /// How much smaller the latents are than the image on each axis: `2^(levels − 1)`
    /// (diffusers' `vae_scale_factor`), 8 for the Stable Diffusion VAE.
    public var downsamplingFactor: Int { 1 << Swift.max(0, blockOutChannels.count - 1) }

    /// Checks every field before anything is allocated from it (ranges in docs/reliability.md).
    /// - Throws: ``ModelError/unsupportedConfiguration(model:reason:)`` naming the field.
    public func validate() throws {
        func fail(_ reason: String) -> ModelError { .unsupportedConfiguration(model: "AutoencoderKL", reason: reason) }
        try FieldBounds.check("block_out_channels", blockOutChannels, count: 1...8, each: 1...8192, else: fail)
        let levels = blockOutChannels.count
        guard downBlockTypes.count == levels, upBlockTypes.count == levels else {
            throw fail("block_out_channels, down_block_types and up_block_types must have the same length")
        }
        for type in downBlockTypes where type != "DownEncoderBlock2D" { throw fail("down block \(type.abbreviated())") }
        for type in upBlockTypes where type != "UpDecoderBlock2D" { throw fail("up block \(type.abbreviated())") }
        // diffusers' get_activation maps both names to SiLU; the encoder/decoder output always uses SiLU.
        guard ["silu", "swish"].contains(activation) else { throw fail("act_fn \(activation.abbreviated())") }
        try FieldBounds.check("in_channels", inChannels, in: 1...64, else: fail)
        try FieldBounds.check("out_channels", outChannels, in: 1...64, else: fail)
        try FieldBounds.check("latent_channels", latentChannels, in: 1...64, else: fail)
        try FieldBounds.check("layers_per_block", layersPerBlock, in: 1...16, else: fail)
        try FieldBounds.check("norm_num_groups", normGroups, in: 1...1024, else: fail)
        try FieldBounds.check("sample_size", sampleSize, count: 1...2, each: 1...65536, else: fail)
        try FieldBounds.check("scaling_factor", scalingFactor, in: 1e-6...1e6, else: fail)
        for channels in blockOutChannels where channels % normGroups != 0 {
            throw fail("\(channels) channels do not divide into \(normGroups) groups")
        }
    }

    /// A lower bound on the parameters the autoencoder holds: the second 3×3 convolution of
    /// each residual block (`layers` per encoder level, `layers + 1` per decoder level). See
    /// ``UNetConfiguration/minimumParameterCount``. Call after ``validate()``.
    public var minimumParameterCount: Int {
        blockOutChannels.reduce(0) { $0 + 9 * $1 * $1 * (2 * layersPerBlock + 1) }
    }
}
