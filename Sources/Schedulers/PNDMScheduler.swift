import Compute

/// Pseudo numerical methods (PLMS), the scheduler Auffusion ships.
///
/// Matches diffusers 0.18.2 `PNDMScheduler` with `skip_prk_steps = true` (schedulers/scheduling_pndm.py):
/// Liu et al., "Pseudo Numerical Methods for Diffusion Models on Manifolds" (ICLR 2022), the
/// linear multistep method (eqs. 12–13, algorithm 2) around the transfer of eq. 9,
///
///     x_prev = √(ᾱ_p/ᾱ_t)·x − (ᾱ_p − ᾱ_t)·ε′ / (ᾱ_t·√(1−ᾱ_p) + √(ᾱ_t(1−ᾱ_t)ᾱ_p)),
///
/// where ε′ is the Adams–Bashforth combination of the last model outputs: ε, (3e₁−e₂)/2,
/// (23e₁−16e₂+5e₃)/12, then (55e₁−59e₂+37e₃−9e₄)/24 (e₁ newest).
///
/// **The literal state machine.** `set_timesteps(N)` returns N + 1 entries: with r = T // N it
/// repeats the second timestep (N = 100: 991, 981, 981, 971, …, 1). The step is driven by a call
/// counter, not by the timestep it is given:
/// - call 0 steps t → t − r with ε′ = ε, and remembers the sample;
/// - call 1 (normally at the repeated t − r) is a second-order correction of that first step: it
///   restarts from the remembered sample, treats the given timestep as the target and
///   timestep + r as the start, and uses ε′ = (ε + e₁)/2 (the "improved Euler" warm-up); its
///   model output does not join the history;
/// - later calls step t → t − r with the multistep combinations above.
///
/// When img2img slices the list (``Scheduler/timesteps(stepCount:strength:)``), the repeated entry
/// is cut off, so call 1 receives t₀ − r while the sample is already there, and redoes t₀ → t₀ − r;
/// call 2 then receives t₀ − 2r with the sample at t₀ − r, and the rest of the run keeps that
/// one-step lag. This port reproduces it literally, as it must to match the reference.
///
/// `prediction_type` epsilon or v_prediction; `skip_prk_steps = false` (the Runge–Kutta warm-up)
/// is not implemented and refused.
public struct PNDMScheduler: Scheduler {
    static let name = "PNDMScheduler"

    public let noiseSchedule: NoiseSchedule
    public let predictionType: PredictionType
    public let timestepSpacing: TimestepSpacing
    public let stepsOffset: Int
    /// ᾱ used when a step goes below t = 0: 1 with `set_alpha_to_one`, else ᾱ₀.
    public let finalAlphaCumprod: Float
    public private(set) var timesteps: [Float] = []
    public var initNoiseSigma: Float { 1 }

    /// N of the last `setTimesteps`, nil before.
    private var stepCount: Int?
    /// How many steps were taken since `setTimesteps` (diffusers' `counter`).
    private var counter = 0
    /// The last (up to four) model outputs, oldest first (diffusers' `ets`).
    private var history: [Tensor] = []
    /// The sample remembered by call 0 for the warm-up correction (diffusers' `cur_sample`).
    private var warmUpSample: Tensor?

    /// Builds the scheduler from scheduler_config.json keys, with `PNDMScheduler`'s defaults for
    /// absent ones (spacing "leading", `set_alpha_to_one` false, `skip_prk_steps` false).
    ///
    /// - Throws: ``SchedulerError/unsupportedSetting(scheduler:key:value:)`` unless `skip_prk_steps`
    ///   is true, or for `prediction_type` "sample"; what ``NoiseSchedule`` throws.
    public init(configuration: SchedulerConfiguration) throws {
        guard configuration.skipPRKSteps == true else {
            throw SchedulerError.unsupportedSetting(scheduler: Self.name, key: "skip_prk_steps", value: "false")
        }
        noiseSchedule = try NoiseSchedule(configuration: configuration, scheduler: Self.name)
        predictionType = configuration.predictionType ?? .epsilon
        guard predictionType == .epsilon || predictionType == .vPrediction else {
            throw SchedulerError.unsupportedSetting(scheduler: Self.name, key: "prediction_type",
                                                    value: predictionType.rawValue)
        }
        timestepSpacing = configuration.timestepSpacing ?? .leading
        stepsOffset = configuration.stepsOffset ?? 0
        finalAlphaCumprod = (configuration.setAlphaToOne ?? false) ? 1 : noiseSchedule.alphasCumprod[0]
    }

    /// The PLMS timesteps: the N spaced timesteps with the second one repeated, largest first
    /// (`concat(ts[:-1], ts[-2:-1], ts[-1:])[::-1]` of `set_timesteps`); resets the state.
    @discardableResult
    public mutating func setTimesteps(stepCount: Int) throws -> [Float] {
        try validate(stepCount: stepCount)
        let ascending = timestepSpacing
            .descendingTimesteps(count: stepCount, trainingSteps: noiseSchedule.trainingSteps, offset: stepsOffset)
            .reversed().map { Int($0.roundedHalfToEven) }
        let plms = ascending.dropLast() + ascending.dropLast().suffix(1) + ascending.suffix(1)
        timesteps = plms.reversed().map { Float($0) }
        self.stepCount = stepCount
        counter = 0
        history = []
        warmUpSample = nil
        return timesteps
    }

    /// One PLMS step (`step_plms`), driven by the call counter; see the type's documentation.
    public mutating func step(modelOutput: Tensor, timestep: Float, sample: Tensor,
                              random: inout some RandomSource) throws -> Tensor {
        guard let stepCount else { throw SchedulerError.timestepsNotSet(scheduler: Self.name) }
        Elementwise.requireSameShape(modelOutput, sample, scheduler: Self.name)
        let ratio = noiseSchedule.trainingSteps / stepCount
        var current = try noiseSchedule.trainingTimestep(timestep)
        var previous = current - ratio
        if counter != 1 {
            history = history.suffix(3) + [modelOutput]
        } else {
            previous = current
            current += ratio
        }
        var start = sample
        let combined: Tensor
        let m = modelOutput.scalars
        switch (history.count, counter) {
        case (1, 0):
            combined = modelOutput
            warmUpSample = sample
        case (1, 1):
            guard let remembered = warmUpSample else { preconditionFailure("PNDM: call 1 without call 0") }
            let e1 = history[0].scalars
            combined = Elementwise.tabulate(sample.shape) { (m[$0] + e1[$0]) / 2 }
            start = remembered
            warmUpSample = nil
        default:
            combined = Self.multistep(history)
        }
        let result = try previousSample(start, from: current, to: previous, prediction: combined)
        counter += 1
        return result
    }

    /// ε′ from two, three or four stored outputs (newest last), in torch's evaluation order.
    private static func multistep(_ history: [Tensor]) -> Tensor {
        precondition(history.count >= 2, "PNDM: a multistep update needs two stored outputs")
        let shape = history[0].shape
        let e1 = history[history.count - 1].scalars, e2 = history[history.count - 2].scalars
        switch history.count {
        case 2:
            return Elementwise.tabulate(shape) { (3 * e1[$0] - e2[$0]) / 2 }
        case 3:
            let e3 = history[0].scalars
            return Elementwise.tabulate(shape) { (23 * e1[$0] - 16 * e2[$0] + 5 * e3[$0]) / 12 }
        default:
            let e3 = history[1].scalars, e4 = history[0].scalars
            let twentyFourth = Float(1.0 / 24.0)
            return Elementwise.tabulate(shape) {
                twentyFourth * (55 * e1[$0] - 59 * e2[$0] + 37 * e3[$0] - 9 * e4[$0])
            }
        }
    }

    /// `_get_prev_sample`: eq. 9 of the PNDM paper, from `current` to `previous`.
    private func previousSample(_ sample: Tensor, from current: Int, to previous: Int,
                                prediction: Tensor) throws -> Tensor {
        let alpha = try noiseSchedule.alphaProduct(at: current)
        let alphaPrevious = previous >= 0 ? try noiseSchedule.alphaProduct(at: previous) : finalAlphaCumprod
        let beta = 1 - alpha, betaPrevious = 1 - alphaPrevious
        let x = sample.scalars
        var epsilon = prediction.scalars
        if predictionType == .vPrediction {
            let v = epsilon, a = alpha.squareRoot(), b = beta.squareRoot()
            epsilon = Elementwise.tabulate(sample.shape) { a * v[$0] + b * x[$0] }.scalars
        }
        let sampleCoefficient = (alphaPrevious / alpha).squareRoot()
        let denominator = alpha * betaPrevious.squareRoot() + (alpha * beta * alphaPrevious).squareRoot()
        let difference = alphaPrevious - alpha
        return Elementwise.tabulate(sample.shape) {
            sampleCoefficient * x[$0] - difference * epsilon[$0] / denominator
        }
    }

    public func addNoise(original: Tensor, noise: Tensor, timestep: Float) throws -> Tensor {
        try noiseSchedule.addNoise(original: original, noise: noise, timestep: timestep)
    }
}
