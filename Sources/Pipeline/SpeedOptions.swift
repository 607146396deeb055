import Compute

/// The training-free approximations a run may make to go faster, all off by default
/// (``exact``): options of the one denoising loop (``DenoiseRun``), so that every generation
/// and edit can take them. docs/compute.md ("Fast presets") gives each one's cost in quality
/// and its speed, measured on the embedded model and the full-size folder.
///
/// - **Adaptive guidance** (Castillo et al. 2023, "Adaptive Guidance: Training-free
///   Acceleration of Conditional Diffusion Models"): classifier-free guidance only on the first
///   ``guidedFraction`` of the run's steps; the later steps evaluate the U-Net on the conditional
///   batch alone (P rows instead of 2P). Late steps refine detail that guidance no longer steers.
/// - **DeepCache** (Ma, Fang & Wang, CVPR 2024): a full U-Net evaluation every
///   ``cacheInterval`` steps stores the deep features; the steps between run only the shallow
///   branch ``cacheBranch`` (``UNetFeatureCache``).
/// - **bfloat16 products** (``products``): the matrix products of the U-Net and of the VAE's
///   decoder round their operands to bfloat16 and sum in float32, as PyTorch's CPU autocast does,
///   where the CPU has BF16 dot products (``ProductPrecision``); elsewhere they stay float32.
///
/// A combination that cannot work is refused, not degraded: feature caching with an attention
/// controller (a prompt-to-prompt edit, attention maps) is an error, since a cached step skips
/// most attention layers (``PipelineError/incompatibleOptions(_:_:reason:)``).
///
/// Encoded with snake_case keys (`guided_fraction`, `cache_interval`, `cache_branch`,
/// `products`), each optional, in edit plans and batch lines.
public struct SpeedOptions: Codable, Sendable, Equatable {
    /// The fraction of the run's steps, from the first, that run classifier-free guidance,
    /// in [0, 1]: step `i` of `n` is guided when `i < round(fraction · n)`. 1: every step.
    public var guidedFraction = 1.0
    /// A full U-Net evaluation every this many steps (≥ 1), the shallow branch in between.
    /// 1: every step is a full evaluation.
    public var cacheInterval = 1
    /// The shallow branch of ``cacheInterval``: 0 (the shallowest, fastest) up to the first
    /// down block's layer count − 1.
    public var cacheBranch = 0
    /// The precision of the U-Net's and the VAE decoder's matrix products (float32: the reference's).
    public var products = ProductPrecision.float32

    public init(guidedFraction: Double = 1, cacheInterval: Int = 1, cacheBranch: Int = 0, products: ProductPrecision = .float32) {
        self.guidedFraction = guidedFraction
        self.cacheInterval = cacheInterval
        self.cacheBranch = cacheBranch
        self.products = products
    }

    /// No approximation: the reference's numbers.
    public static let exact = SpeedOptions()

    /// The `--fast` preset: the approximations measured worth their cost (docs/compute.md,
    /// "Fast presets"): guidance on the first half of the steps, a full evaluation every third
    /// step, and bfloat16 products where they are faster than float32 on this CPU
    /// (``ProductPrecision/fastest``). Fewer steps (a better sampler) combine with it through the
    /// request's scheduler and step count, which it leaves to the caller.
    public static let fast = SpeedOptions(guidedFraction: 0.5, cacheInterval: 3, cacheBranch: 0, products: .fastest)

    /// Whether some steps skip the deep layers.
    public var cachesFeatures: Bool { cacheInterval > 1 }

    /// These options as this machine runs them: bfloat16 products are float32 where the CPU has
    /// no BF16 dot products (``ProductPrecision/asRun``).
    public var asRun: SpeedOptions {
        var options = self
        options.products = products.asRun
        return options
    }

    /// Whether any approximation is on.
    public var isExact: Bool { guidedFraction >= 1 && !cachesFeatures && products == .float32 }

    /// Whether step `index` (from 0) of a run of `count` steps runs classifier-free guidance.
    public func guides(step index: Int, of count: Int) -> Bool {
        guidedFraction >= 1 || index < Int((guidedFraction * Double(count)).rounded())
    }

    /// Whether step `index` (from 0) evaluates the whole U-Net (and refreshes the cache).
    public func evaluatesFully(step index: Int) -> Bool { index % cacheInterval == 0 }

    /// Checks the values that need no model.
    /// - Throws: ``PipelineError/invalidValue(field:reason:)`` naming the field (`guided_fraction`,
    ///   `cache_interval`, `cache_branch`).
    public func validate() throws {
        guard guidedFraction.isFinite, (0...1).contains(guidedFraction) else {
            throw PipelineError.invalidValue(field: "guided_fraction", reason: "must be in [0, 1], got \(guidedFraction)")
        }
        guard cacheInterval >= 1 else {
            throw PipelineError.invalidValue(field: "cache_interval", reason: "must be at least 1, got \(cacheInterval)")
        }
        guard cacheBranch >= 0 else {
            throw PipelineError.invalidValue(field: "cache_branch", reason: "must be at least 0, got \(cacheBranch)")
        }
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case guidedFraction = "guided_fraction", cacheInterval = "cache_interval", cacheBranch = "cache_branch", products
    }

    /// The known keys, for documents that reject unknown ones.
    public static let keys = CodingKeys.allCases.map(\.rawValue)

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        guidedFraction = try container.decodeIfPresent(Double.self, forKey: .guidedFraction) ?? 1
        cacheInterval = try container.decodeIfPresent(Int.self, forKey: .cacheInterval) ?? 1
        cacheBranch = try container.decodeIfPresent(Int.self, forKey: .cacheBranch) ?? 0
        products = try container.decodeIfPresent(ProductPrecision.self, forKey: .products) ?? .float32
    }
}
