import Compute
import Foundation

/// DPM-Solver++ (2M): a second-order multistep solver of the diffusion ODE in data-prediction form.
///
/// Matches diffusers 0.18.2 `DPMSolverMultistepScheduler` with `algorithm_type` "dpmsolver++"
/// (schedulers/scheduling_dpmsolver_multistep.py): Lu et al., "DPM-Solver++: Fast Solver for Guided
/// Sampling of Diffusion Probabilistic Models" (2022), algorithm 2. With α_t = √ᾱ_t, σ_t = √(1−ᾱ_t),
/// λ_t = ln α_t − ln σ_t (float32 tables) and the model output turned into x₀ = (x − σ_s·ε)/α_s:
///
///     first order:  x_t = (σ_t/σ_s)·x − α_t(e^{−h} − 1)·D₀,   h = λ_t − λ_s
///     second order: D₁ = (D₀ − x₀_prev)/r₀,  r₀ = (λ_s − λ_{s′})/h,
///       midpoint:   x_t = (σ_t/σ_s)·x − α_t(e^{−h} − 1)·D₀ − ½·α_t(e^{−h} − 1)·D₁
///       heun:       x_t = (σ_t/σ_s)·x − α_t(e^{−h} − 1)·D₀ + α_t((e^{−h} − 1)/h + 1)·D₁
///
/// The first step, and the last one when `lower_order_final` is set and there are fewer than 15
/// steps, are first order. A step finds its index by looking its timestep up in ``timesteps``
/// (the last index when absent), goes to the next entry (0 after the last), and takes its s′ from
/// the entry before. DPM-Solver's own default spacing is "linspace", over N + 1 points of which the
/// last (0) is dropped; Auffusion's PNDM config brings "leading" with `steps_offset` 1
/// (docs/reference.md §6.4). With `use_karras_sigmas`, 0.18.2 replaces the timesteps by the rounded
/// ``KarrasSigmas`` timesteps of N noise levels, removes duplicates, and keeps stepping on the
/// ᾱ tables (its σ list is not used by the step).
///
/// `solver_order` 1 or 2; `solver_type` midpoint or heun ("logrho", "bh1", "bh2" mean midpoint, and
/// `algorithm_type` "deis" means "dpmsolver++", as in diffusers); `prediction_type` epsilon, sample
/// or v_prediction. Not implemented and refused: the "dpmsolver" and SDE algorithms, third order,
/// `thresholding`, learned variances.
public struct DPMSolverMultistepScheduler: Scheduler {
    /// `algorithm_type`.
    public enum AlgorithmType: String, Codable, Sendable, CaseIterable {
        case dpmSolverPlusPlus = "dpmsolver++", dpmSolver = "dpmsolver"
        case sdeDPMSolverPlusPlus = "sde-dpmsolver++", sdeDPMSolver = "sde-dpmsolver", deis
    }

    /// `solver_type`: how the second-order term is formed.
    public enum SolverType: String, Codable, Sendable, CaseIterable {
        case midpoint, heun, logrho, bh1, bh2
    }

    static let name = "DPMSolverMultistepScheduler"

    public let noiseSchedule: NoiseSchedule
    public let predictionType: PredictionType
    public let timestepSpacing: TimestepSpacing
    public let stepsOffset: Int
    /// 1 or 2.
    public let solverOrder: Int
    /// `.midpoint` or `.heun`.
    public let solverType: SolverType
    public let lowerOrderFinal: Bool
    public let useKarrasSigmas: Bool
    /// Timesteps whose λ falls below this are never visited.
    public let lambdaMinClipped: Double
    public private(set) var timesteps: [Float] = []
    public var initNoiseSigma: Float { 1 }

    /// α_t, σ_t and λ_t (float32).
    private let tables: LambdaTables
    /// The x₀ predictions of the last `solverOrder` steps, oldest first (`model_outputs`).
    private var predictions: [Tensor?]
    /// Steps taken so far, capped at `solverOrder` (`lower_order_nums`).
    private var lowerOrderCount = 0

    /// Builds the scheduler from scheduler_config.json keys, with `DPMSolverMultistepScheduler`'s
    /// defaults for absent ones (spacing "linspace", order 2, dpmsolver++, midpoint,
    /// `lower_order_final` true).
    ///
    /// - Throws: ``SchedulerError/unsupportedSetting(scheduler:key:value:)`` for what is not
    ///   implemented (see the type's documentation); what ``NoiseSchedule`` throws.
    public init(configuration: SchedulerConfiguration) throws {
        func unsupported(_ key: String, _ value: String) -> SchedulerError {
            .unsupportedSetting(scheduler: Self.name, key: key, value: value)
        }
        let algorithm = configuration.algorithmType ?? .dpmSolverPlusPlus
        guard algorithm == .dpmSolverPlusPlus || algorithm == .deis else { throw unsupported("algorithm_type", algorithm.rawValue) }
        solverOrder = configuration.solverOrder ?? 2
        guard solverOrder == 1 || solverOrder == 2 else { throw unsupported("solver_order", "\(solverOrder)") }
        if configuration.thresholding == true { throw unsupported("thresholding", "true") }
        if let variance = configuration.varianceType, variance == "learned" || variance == "learned_range" {
            throw unsupported("variance_type", variance)
        }
        predictionType = configuration.predictionType ?? .epsilon
        guard predictionType != .originalSample else { throw unsupported("prediction_type", predictionType.rawValue) }
        solverType = configuration.solverType == .heun ? .heun : .midpoint
        noiseSchedule = try NoiseSchedule(configuration: configuration, scheduler: Self.name)
        timestepSpacing = configuration.timestepSpacing ?? .linspace
        stepsOffset = configuration.stepsOffset ?? 0
        lowerOrderFinal = configuration.lowerOrderFinal ?? true
        useKarrasSigmas = configuration.useKarrasSigmas ?? false
        lambdaMinClipped = configuration.lambdaMinClipped ?? -.infinity
        tables = LambdaTables(noiseSchedule)
        predictions = Array(repeating: nil, count: solverOrder)
    }

    /// The N timesteps, largest first (duplicates removed, so Karras schedules may be shorter),
    /// and a fresh solver state (`set_timesteps`).
    @discardableResult
    public mutating func setTimesteps(stepCount: Int) throws -> [Float] {
        try validate(stepCount: stepCount)
        timesteps = tables.timesteps(count: stepCount, spacing: timestepSpacing, stepsOffset: stepsOffset,
                                     useKarrasSigmas: useKarrasSigmas, lambdaMinClipped: lambdaMinClipped)
        predictions = Array(repeating: nil, count: solverOrder)
        lowerOrderCount = 0
        return timesteps
    }

    /// One multistep update from `timestep` to the next scheduled timestep.
    public mutating func step(modelOutput: Tensor, timestep: Float, sample: Tensor,
                              random: inout some RandomSource) throws -> Tensor {
        let (current, index, target) = try tables.position(of: timestep, in: timesteps, output: modelOutput,
                                                           sample: sample, scheduler: Self.name)
        let count = timesteps.count
        let finalStepIsFirstOrder = index == count - 1 && lowerOrderFinal && count < 15

        let prediction = tables.dataPrediction(modelOutput, at: current, sample: sample, type: predictionType)
        predictions = Array(predictions.dropFirst()) + [prediction]
        let result: Tensor
        if solverOrder == 1 || lowerOrderCount < 1 || finalStepIsFirstOrder {
            result = firstOrderUpdate(prediction, from: current, to: target, sample: sample)
        } else {
            // timesteps[step_index - 1], with Python's wrap-around for index 0.
            let earlier = Int(timesteps[(index - 1 + count) % count])
            guard let older = predictions[predictions.count - 2] else { preconditionFailure("DPM-Solver: no previous prediction") }
            result = secondOrderUpdate(prediction, older, from: current, earlier: earlier, to: target, sample: sample)
        }
        lowerOrderCount = min(lowerOrderCount + 1, solverOrder)
        return result
    }

    /// `dpm_solver_first_order_update` (DDIM in λ): from s = `source` to t = `target`.
    private func firstOrderUpdate(_ prediction: Tensor, from source: Int, to target: Int, sample: Tensor) -> Tensor {
        let h = tables.lambda[target] - tables.lambda[source]
        let sampleCoefficient = tables.sigma[target] / tables.sigma[source]
        let predictionCoefficient = tables.alpha[target] * (exp(-h) - 1)
        let x = sample.scalars, d0 = prediction.scalars
        return Elementwise.tabulate(sample.shape) { sampleCoefficient * x[$0] - predictionCoefficient * d0[$0] }
    }

    /// `multistep_dpm_solver_second_order_update`: s₀ = `source`, s₁ = `earlier`, t = `target`.
    private func secondOrderUpdate(_ prediction: Tensor, _ olderPrediction: Tensor, from source: Int,
                                   earlier: Int, to target: Int, sample: Tensor) -> Tensor {
        let h = tables.lambda[target] - tables.lambda[source]
        let h0 = tables.lambda[source] - tables.lambda[earlier]
        let inverseRatio = 1 / (h0 / h)                       // 1.0 / r0 is torch.reciprocal(r0) * 1.0
        let alpha = tables.alpha[target]
        let sampleCoefficient = tables.sigma[target] / tables.sigma[source]
        let firstCoefficient = alpha * (exp(-h) - 1)
        let x = sample.scalars, m0 = prediction.scalars, m1 = olderPrediction.scalars
        switch solverType {
        case .heun:
            let secondCoefficient = alpha * ((exp(-h) - 1) / h + 1)
            return Elementwise.tabulate(sample.shape) { i in
                let d1 = inverseRatio * (m0[i] - m1[i])
                return sampleCoefficient * x[i] - firstCoefficient * m0[i] + secondCoefficient * d1
            }
        default:
            let secondCoefficient = 0.5 * firstCoefficient
            return Elementwise.tabulate(sample.shape) { i in
                let d1 = inverseRatio * (m0[i] - m1[i])
                return sampleCoefficient * x[i] - firstCoefficient * m0[i] - secondCoefficient * d1
            }
        }
    }

    public func addNoise(original: Tensor, noise: Tensor, timestep: Float) throws -> Tensor {
        try noiseSchedule.addNoise(original: original, noise: noise, timestep: timestep)
    }
}
