import Compute

/// The Euler method on the probability-flow ODE in σ (k-diffusion's `sample_euler`).
///
/// Matches diffusers 0.18.2 `EulerDiscreteScheduler` (schedulers/scheduling_euler_discrete.py):
/// Karras et al., "Elucidating the Design Space of Diffusion-Based Generative Models" (NeurIPS
/// 2022), algorithm 2 without churn. Samples live at scale √(σ² + 1) relative to the other
/// schedulers, σ_t = √((1 − ᾱ_t)/ᾱ_t):
///
///     model input = x / √(σ² + 1)
///     x₀ = x − σ·ε   (epsilon),   x_prev = x + (x − x₀)/σ · (σ_next − σ)
///
/// The N timesteps follow `timestep_spacing` (Euler's default "linspace" keeps fractions) and
/// their σ are `np.interp`olated from the training table in float64, then stored as float32 with a
/// final 0. With `use_karras_sigmas` the σ become N ``KarrasSigmas`` levels and the timesteps
/// their fractional training times. `init_noise_sigma` is the largest σ, or √(σ_max² + 1) for
/// "leading" spacing.
///
/// The step of 0.18.2 draws a noise tensor on every call and uses it only when churn is on (it
/// never is through the pipelines); this port draws it too, from the step's random source, so the
/// random stream stays in step with the reference. Steps look their timestep up by value.
/// `prediction_type` epsilon, v_prediction, sample or original_sample; `interpolation_type`
/// "log_linear" is not implemented and refused.
public struct EulerDiscreteScheduler: Scheduler {
    /// `interpolation_type`: how σ between table entries is found.
    public enum InterpolationType: String, Codable, Sendable, CaseIterable {
        case linear
        case logLinear = "log_linear"
    }

    static let name = "EulerDiscreteScheduler"

    public let noiseSchedule: NoiseSchedule
    public let predictionType: PredictionType
    public let timestepSpacing: TimestepSpacing
    public let stepsOffset: Int
    public let useKarrasSigmas: Bool
    public private(set) var timesteps: [Float] = []
    /// σ of each timestep and a final 0 (one more entry than ``timesteps``); before
    /// `setTimesteps`, the whole training table, largest first.
    public private(set) var sigmas: [Float]

    /// The largest σ, or √(σ_max² + 1) with "leading" spacing (diffusers' `init_noise_sigma`).
    public var initNoiseSigma: Float {
        let largest = sigmas.max() ?? 0
        return timestepSpacing == .leading ? (largest * largest + 1).squareRoot() : largest
    }

    /// Builds the scheduler from scheduler_config.json keys, with `EulerDiscreteScheduler`'s
    /// defaults for absent ones (spacing "linspace", linear interpolation, no Karras sigmas).
    ///
    /// - Throws: ``SchedulerError/unsupportedSetting(scheduler:key:value:)`` for "log_linear"
    ///   interpolation; what ``NoiseSchedule`` throws.
    public init(configuration: SchedulerConfiguration) throws {
        if let interpolation = configuration.interpolationType, interpolation != .linear {
            throw SchedulerError.unsupportedSetting(scheduler: Self.name, key: "interpolation_type",
                                                    value: interpolation.rawValue)
        }
        noiseSchedule = try NoiseSchedule(configuration: configuration, scheduler: Self.name)
        predictionType = configuration.predictionType ?? .epsilon
        timestepSpacing = configuration.timestepSpacing ?? .linspace
        stepsOffset = configuration.stepsOffset ?? 0
        useKarrasSigmas = configuration.useKarrasSigmas ?? false
        sigmas = noiseSchedule.sigmas.reversed() + [0]
    }

    /// The N timesteps, largest first, and their σ (`set_timesteps`).
    @discardableResult
    public mutating func setTimesteps(stepCount: Int) throws -> [Float] {
        try validate(stepCount: stepCount)
        let table = noiseSchedule.sigmas
        var times = timestepSpacing.descendingTimesteps(
            count: stepCount, trainingSteps: noiseSchedule.trainingSteps, offset: stepsOffset)
        var levels = times.map { NumPyRanges.interpolate($0, knots: table) }
        if useKarrasSigmas {
            let logSigmas = KarrasSigmas.logarithms(table)
            levels = KarrasSigmas.sigmas(from: levels[0], to: levels[levels.count - 1], count: stepCount)
            times = levels.map { KarrasSigmas.timestep(for: $0, logSigmas: logSigmas) }
        }
        sigmas = levels.map { Float($0) } + [0]
        timesteps = times.map { Float($0) }
        return timesteps
    }

    /// `x / √(σ² + 1)` for the σ of `timestep`.
    public func scaleModelInput(_ sample: Tensor, timestep: Float) throws -> Tensor {
        let sigma = sigmas[try index(of: timestep)]
        let scale = (sigma * sigma + 1).squareRoot()
        let x = sample.scalars
        return Elementwise.tabulate(sample.shape) { x[$0] / scale }
    }

    /// One Euler step from the σ of `timestep` to the next σ; draws (and discards) one
    /// `random.normal(shape:)` tensor like the reference.
    public mutating func step(modelOutput: Tensor, timestep: Float, sample: Tensor,
                              random: inout some RandomSource) throws -> Tensor {
        Elementwise.requireSameShape(modelOutput, sample, scheduler: Self.name)
        let index = try index(of: timestep)
        // 0.18.2 draws `noise` before knowing whether churn (never on here) needs it.
        _ = random.normal(shape: modelOutput.shape)
        let sigma = sigmas[index]                 // σ̂ = σ·(γ + 1) with γ = 0
        let interval = sigmas[index + 1] - sigma
        let x = sample.scalars, m = modelOutput.scalars
        switch predictionType {
        case .epsilon:
            return Elementwise.tabulate(sample.shape) { i in
                let original = x[i] - sigma * m[i]
                return x[i] + (x[i] - original) / sigma * interval
            }
        case .vPrediction:
            let variance = sigma * sigma + 1
            let outputCoefficient = -sigma / variance.squareRoot()
            return Elementwise.tabulate(sample.shape) { i in
                let original = m[i] * outputCoefficient + x[i] / variance
                return x[i] + (x[i] - original) / sigma * interval
            }
        case .sample, .originalSample:
            return Elementwise.tabulate(sample.shape) { i in x[i] + (x[i] - m[i]) / sigma * interval }
        }
    }

    /// `x₀ + ε·σ` for the σ of `timestep`, which must be one of ``timesteps``.
    public func addNoise(original: Tensor, noise: Tensor, timestep: Float) throws -> Tensor {
        Elementwise.requireSameShape(original, noise, scheduler: Self.name)
        let sigma = sigmas[try index(of: timestep)]
        let x = original.scalars, n = noise.scalars
        return Elementwise.tabulate(original.shape) { x[$0] + n[$0] * sigma }
    }

    /// The position of `timestep` in ``timesteps`` (diffusers' `(timesteps == t).nonzero().item()`).
    private func index(of timestep: Float) throws -> Int {
        guard !timesteps.isEmpty else { throw SchedulerError.timestepsNotSet(scheduler: Self.name) }
        guard let index = timesteps.firstIndex(of: timestep) else { throw SchedulerError.timestepNotInSchedule(timestep) }
        return index
    }
}
