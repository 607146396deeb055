import Compute

/// Denoising diffusion implicit models.
///
/// Matches diffusers 0.18.2 `DDIMScheduler` (schedulers/scheduling_ddim.py): Song et al., "Denoising
/// Diffusion Implicit Models" (ICLR 2021), eq. 12 with σ_t(η) of eq. 16,
///
///     x₀ = (x − √(1−ᾱ_t)·ε)/√ᾱ_t,   σ = η·√((1−ᾱ_p)/(1−ᾱ_t)·(1 − ᾱ_t/ᾱ_p)),
///     x_prev = √ᾱ_p·x₀ + √(1 − ᾱ_p − σ²)·ε + σ·z,
///
/// with p = t − T // N (ᾱ_p = 1 with `set_alpha_to_one`, else ᾱ₀, below t = 0), x₀ clamped to
/// ±`clip_sample_range` when `clip_sample` is set (DDIM's own default is true: Auffusion's config
/// turns it off), and z drawn from the step's random source only when η > 0.
/// `prediction_type` epsilon, sample or v_prediction. `thresholding` and
/// `rescale_betas_zero_snr` are not implemented and refused.
public struct DDIMScheduler: Scheduler {
    static let name = "DDIMScheduler"

    public let noiseSchedule: NoiseSchedule
    public let predictionType: PredictionType
    public let timestepSpacing: TimestepSpacing
    public let stepsOffset: Int
    /// ᾱ used when a step goes below t = 0: 1 with `set_alpha_to_one`, else ᾱ₀.
    public let finalAlphaCumprod: Float
    /// `clip_sample`: whether the predicted x₀ is clamped.
    public let clipSample: Bool
    /// `clip_sample_range`: the clamp's bound.
    public let clipSampleRange: Float
    /// η: 0 for the deterministic sampler, 1 for DDPM-like ancestral noise (the pipelines' `eta`).
    public var eta: Float
    public private(set) var timesteps: [Float] = []
    public var initNoiseSigma: Float { 1 }
    private var stepCount: Int?

    /// Builds the scheduler from scheduler_config.json keys, with `DDIMScheduler`'s defaults for
    /// absent ones (spacing "leading", `clip_sample` true, `set_alpha_to_one` true).
    ///
    /// - Parameters:
    ///   - configuration: the scheduler_config.json keys.
    ///   - eta: η ≥ 0 (a sampling option, not a configuration key).
    /// - Throws: ``SchedulerError/unsupportedSetting(scheduler:key:value:)`` for `thresholding`,
    ///   `rescale_betas_zero_snr` or `prediction_type` "original_sample"; what ``NoiseSchedule`` throws.
    public init(configuration: SchedulerConfiguration, eta: Float = 0) throws {
        for (key, value) in [("thresholding", configuration.thresholding),
                             ("rescale_betas_zero_snr", configuration.rescaleBetasZeroSNR)] where value == true {
            throw SchedulerError.unsupportedSetting(scheduler: Self.name, key: key, value: "true")
        }
        noiseSchedule = try NoiseSchedule(configuration: configuration, scheduler: Self.name)
        predictionType = configuration.predictionType ?? .epsilon
        guard predictionType != .originalSample else {
            throw SchedulerError.unsupportedSetting(scheduler: Self.name, key: "prediction_type",
                                                    value: predictionType.rawValue)
        }
        timestepSpacing = configuration.timestepSpacing ?? .leading
        stepsOffset = configuration.stepsOffset ?? 0
        finalAlphaCumprod = (configuration.setAlphaToOne ?? true) ? 1 : noiseSchedule.alphasCumprod[0]
        clipSample = configuration.clipSample ?? true
        clipSampleRange = Float(configuration.clipSampleRange ?? 1)
        self.eta = eta
    }

    /// The N spaced timesteps, largest first, as whole numbers (`set_timesteps`).
    @discardableResult
    public mutating func setTimesteps(stepCount: Int) throws -> [Float] {
        try validate(stepCount: stepCount)
        timesteps = timestepSpacing
            .descendingTimesteps(count: stepCount, trainingSteps: noiseSchedule.trainingSteps, offset: stepsOffset)
            .map { Float($0.roundedHalfToEven) }
        self.stepCount = stepCount
        return timesteps
    }

    /// One DDIM step from `timestep` to `timestep − T // N`; draws `random.normal` only when η > 0.
    public mutating func step(modelOutput: Tensor, timestep: Float, sample: Tensor,
                              random: inout some RandomSource) throws -> Tensor {
        guard let stepCount else { throw SchedulerError.timestepsNotSet(scheduler: Self.name) }
        Elementwise.requireSameShape(modelOutput, sample, scheduler: Self.name)
        let (alpha, alphaPrevious) = try alphaProducts(at: timestep, stepCount: stepCount)
        let beta = 1 - alpha
        let deviation = try noiseDeviation(at: timestep)
        let directionCoefficient = (1 - alphaPrevious - deviation * deviation).squareRoot()
        let a = alpha.squareRoot(), b = beta.squareRoot(), aPrevious = alphaPrevious.squareRoot()
        let clip = clipSample, bound = clipSampleRange, prediction = predictionType
        let x = sample.scalars, m = modelOutput.scalars
        var result = Elementwise.tabulate(sample.shape) { i in
            var original: Float, epsilon: Float
            switch prediction {
            case .epsilon:
                original = (x[i] - b * m[i]) / a
                epsilon = m[i]
            case .sample, .originalSample:
                original = m[i]
                epsilon = (x[i] - a * original) / b
            case .vPrediction:
                original = a * x[i] - b * m[i]
                epsilon = a * m[i] + b * x[i]
            }
            if clip { original = min(max(original, -bound), bound) }
            return aPrevious * original + directionCoefficient * epsilon
        }
        if eta > 0 {
            let noise = random.normal(shape: sample.shape).scalars
            let mean = result.scalars
            result = Elementwise.tabulate(sample.shape) { mean[$0] + deviation * noise[$0] }
        }
        return result
    }

    /// σ_t(η), the standard deviation of the noise the step from `timestep` adds (eq. 16):
    /// `η·√((1 − ᾱ_p)/(1 − ᾱ_t)·(1 − ᾱ_t/ᾱ_p))` (diffusers' `eta * _get_variance(t, p) ** 0.5`).
    /// - Throws: ``SchedulerError`` when timesteps are not set or `timestep` is not usable.
    public func noiseDeviation(at timestep: Float) throws -> Float {
        guard let stepCount else { throw SchedulerError.timestepsNotSet(scheduler: Self.name) }
        let (alpha, alphaPrevious) = try alphaProducts(at: timestep, stepCount: stepCount)
        let variance = ((1 - alphaPrevious) / (1 - alpha)) * (1 - alpha / alphaPrevious)
        return eta * variance.squareRoot()
    }

    /// `(ᾱ_t, ᾱ_p)` for the step from `timestep` to `p = timestep − T // N`.
    private func alphaProducts(at timestep: Float, stepCount: Int) throws -> (Float, Float) {
        let current = try noiseSchedule.trainingTimestep(timestep)
        let previous = current - noiseSchedule.trainingSteps / stepCount
        let alpha = try noiseSchedule.alphaProduct(at: current)
        return (alpha, previous >= 0 ? try noiseSchedule.alphaProduct(at: previous) : finalAlphaCumprod)
    }

    public func addNoise(original: Tensor, noise: Tensor, timestep: Float) throws -> Tensor {
        try noiseSchedule.addNoise(original: original, noise: noise, timestep: timestep)
    }
}
