import Compute
import Foundation

/// UniPC: a multistep predictor–corrector solver of the diffusion ODE, for good samples in 10–15
/// steps.
///
/// Matches diffusers 0.18.2 `UniPCMultistepScheduler` (schedulers/scheduling_unipc_multistep.py):
/// Zhao, Bai, Rao, Zhou & Lu, "UniPC: A Unified Predictor-Corrector Framework for Fast Sampling of
/// Diffusion Models" (NeurIPS 2023), the B(h) variants of its algorithms. On the λ tables DPM-Solver
/// uses (``LambdaTables``), in data-prediction form (`predict_x0`, the default), with the model
/// output turned into m = x̂₀ as DPM-Solver++ does, h = λ_t − λ_s, and the older outputs m_k at
/// s_k entering as D_k = (m_k − m_s)/r_k with r_k = (λ_{s_k} − λ_s)/h:
///
///     predictor UniP-p:  x_t = (σ_t/σ_s)·x_s − α_t(e^{−h} − 1)·m_s − α_t·B(h)·Σ_{k<p} ρ_k·D_k
///     corrector UniC-p:  x_t ← (σ_t/σ_s)·x_s − α_t(e^{−h} − 1)·m_s
///                              − α_t·B(h)·(Σ_{k<p} ρᶜ_k·D_k + ρᶜ_p·(m_t − m_s))
///
/// B(h) = e^{−h} − 1 for "bh2" (the default), −h for "bh1"; ρ solves R·ρ = b with R_{ij} = r_j^i
/// (r_p = 1) and b_i = i!·φ_{i+1}(−h)·(−h)/B(h), except that the second-order predictor and the
/// first-order corrector take ρ = ½. Each `step` first corrects the sample it receives with the
/// new model output m_t (which the next predictor reuses, so the corrector costs no evaluation),
/// then predicts the next one. The corrector is skipped on the first step of a schedule and after
/// the step indices listed in `disable_corrector`. The order rises by one per step up to
/// `solver_order`; with `lower_order_final` (the default) it falls again over the last steps, so
/// that the last is first order whatever the number of steps (DPM-Solver does that only below 15
/// steps). With `predict_x0` false the
/// same updates run on the noise prediction (α and σ exchange their roles, h keeps its sign).
///
/// Timesteps as DPM-Solver's, without its λ clipping: UniPC's own spacing is "linspace";
/// Auffusion's PNDM config brings "leading" with `steps_offset` 1. `solver_order` 1–3;
/// `solver_type` bh1 or bh2 ("midpoint", "heun" and "logrho" mean bh2, as in diffusers);
/// `prediction_type` epsilon, sample or v_prediction. Not implemented and refused:
/// `thresholding`; `use_karras_sigmas`, which 0.18.2 accepts but cannot run (its `set_timesteps`
/// calls a `_convert_to_karras` the class does not have); and `solver_p` (another scheduler as the
/// predictor, which a JSON file cannot name).
public struct UniPCMultistepScheduler: Scheduler {
    static let name = "UniPCMultistepScheduler"

    public let noiseSchedule: NoiseSchedule
    public let predictionType: PredictionType
    public let timestepSpacing: TimestepSpacing
    public let stepsOffset: Int
    /// 1, 2 or 3: the predictor's order p (the corrector raises the accuracy to p + 1).
    public let solverOrder: Int
    /// `.bh1` or `.bh2`.
    public let solverType: DPMSolverMultistepScheduler.SolverType
    public let lowerOrderFinal: Bool
    /// Whether the updates run on the model's estimate of x₀ (`predict_x0`) or of the noise.
    public let predictsX0: Bool
    /// Step indices after which the corrector is skipped (`disable_corrector`).
    public let disabledCorrectorSteps: Set<Int>
    public private(set) var timesteps: [Float] = []
    public var initNoiseSigma: Float { 1 }

    private let tables: LambdaTables
    /// The converted outputs of the last `solverOrder` steps and their training timesteps, oldest
    /// first (`model_outputs`, `timestep_list`).
    private var history: [(output: Tensor, timestep: Int)] = []
    /// The sample the last predictor started from (`last_sample`), which the corrector redoes.
    private var lastSample: Tensor?
    /// The last predictor's order (`this_order`), which the next corrector takes.
    private var lastOrder = 1
    /// Steps taken so far, capped at `solverOrder` (`lower_order_nums`).
    private var lowerOrderCount = 0

    /// Builds the scheduler from scheduler_config.json keys, with `UniPCMultistepScheduler`'s
    /// defaults for absent ones (spacing "linspace", order 2, bh2, `predict_x0` and
    /// `lower_order_final` true, the corrector everywhere).
    ///
    /// - Throws: ``SchedulerError/unsupportedSetting(scheduler:key:value:)`` for what is not
    ///   implemented (see the type's documentation); what ``NoiseSchedule`` throws.
    public init(configuration: SchedulerConfiguration) throws {
        func unsupported(_ key: String, _ value: String) -> SchedulerError {
            .unsupportedSetting(scheduler: Self.name, key: key, value: value)
        }
        solverOrder = configuration.solverOrder ?? 2
        guard (1...3).contains(solverOrder) else { throw unsupported("solver_order", "\(solverOrder)") }
        if configuration.thresholding == true { throw unsupported("thresholding", "true") }
        if configuration.useKarrasSigmas == true { throw unsupported("use_karras_sigmas", "true") }
        predictionType = configuration.predictionType ?? .epsilon
        guard predictionType != .originalSample else { throw unsupported("prediction_type", predictionType.rawValue) }
        solverType = configuration.solverType == .bh1 ? .bh1 : .bh2
        noiseSchedule = try NoiseSchedule(configuration: configuration, scheduler: Self.name)
        timestepSpacing = configuration.timestepSpacing ?? .linspace
        stepsOffset = configuration.stepsOffset ?? 0
        lowerOrderFinal = configuration.lowerOrderFinal ?? true
        predictsX0 = configuration.predictX0 ?? true
        disabledCorrectorSteps = Set(configuration.disableCorrector ?? [])
        tables = LambdaTables(noiseSchedule)
    }

    /// The N timesteps, largest first (duplicates removed), and a fresh solver state
    /// (`set_timesteps`).
    @discardableResult
    public mutating func setTimesteps(stepCount: Int) throws -> [Float] {
        try validate(stepCount: stepCount)
        timesteps = tables.timesteps(count: stepCount, spacing: timestepSpacing, stepsOffset: stepsOffset, useKarrasSigmas: false)
        lowerOrderCount = 0
        history = []
        lastSample = nil
        return timesteps
    }

    /// One step: the corrector on `sample` with `modelOutput`, then the predictor from there to the
    /// next scheduled timestep.
    public mutating func step(modelOutput: Tensor, timestep: Float, sample: Tensor,
                              random: inout some RandomSource) throws -> Tensor {
        let (current, index, target) = try tables.position(of: timestep, in: timesteps, output: modelOutput,
                                                           sample: sample, scheduler: Self.name)
        // Converted from the sample as it came, before the corrector moves it.
        let output = converted(modelOutput, at: current, sample: sample)
        var sample = sample
        if index > 0, !disabledCorrectorSteps.contains(index - 1), let lastSample {
            sample = corrected(lastSample, output: output, at: current, order: lastOrder)
        }
        history = Array((history + [(output, current)]).suffix(solverOrder))
        let order = lowerOrderFinal ? min(solverOrder, timesteps.count - index) : solverOrder
        lastOrder = min(order, lowerOrderCount + 1)
        lastSample = sample
        let result = predicted(sample, to: target, order: lastOrder)
        lowerOrderCount = min(lowerOrderCount + 1, solverOrder)
        return result
    }

    public func addNoise(original: Tensor, noise: Tensor, timestep: Float) throws -> Tensor {
        try noiseSchedule.addNoise(original: original, noise: noise, timestep: timestep)
    }

    /// `convert_model_output`: x̂₀ (``predictsX0``) or the noise the output implies.
    private func converted(_ output: Tensor, at t: Int, sample: Tensor) -> Tensor {
        if predictsX0 { return tables.dataPrediction(output, at: t, sample: sample, type: predictionType) }
        let alpha = tables.alpha[t], sigma = tables.sigma[t]
        let x = sample.scalars, m = output.scalars
        switch predictionType {
        case .epsilon: return output
        case .sample, .originalSample: return Elementwise.tabulate(sample.shape) { (x[$0] - alpha * m[$0]) / sigma }
        case .vPrediction: return Elementwise.tabulate(sample.shape) { alpha * m[$0] + sigma * x[$0] }
        }
    }

    /// What one update of order p from the newest entry of ``history`` (s) to `target` (t)
    /// needs: the three scalar factors, the older outputs with their ratios r_k, and the system
    /// R·ρ = b (the common part of `multistep_uni_p_bh_update` and `multistep_uni_c_bh_update`).
    private struct Update {
        /// σ_t/σ_s, α_t(e^{−h} − 1) and α_t·B(h) (α and σ exchanged without `predict_x0`).
        var sampleFactor: Float, outputFactor: Float, residualFactor: Float
        /// The older converted outputs m_k, newest first, and r_k = (λ_{s_k} − λ_s)/h.
        var older: [[Float]], ratios: [Float]
        /// R (p × p, row i holds r_k^i with r_p = 1) and b.
        var matrix: [[Float]], rhs: [Float]
    }

    /// The ``Update`` of order `order` from the newest history entry to `target`.
    private func update(order: Int, to target: Int) -> Update {
        let newest = history[history.count - 1]
        let source = newest.timestep
        let lambda = tables.lambda
        let h = lambda[target] - lambda[source]
        let olderEntries = (1..<order).map { history[history.count - 1 - $0] }
        let ratios = olderEntries.map { (lambda[$0.timestep] - lambda[source]) / h }
        let hh = predictsX0 ? -h : h
        let hPhi1 = expm1(hh)                                   // h·φ₁(h) = e^h − 1
        let bh = solverType == .bh1 ? hh : expm1(hh)
        var hPhiK = hPhi1 / hh - 1
        var factorial = 1
        var matrix: [[Float]] = [], rhs: [Float] = []
        let knots = ratios + [1]
        for i in 1...order {
            matrix.append(knots.map { r in (0..<(i - 1)).reduce(Float(1)) { power, _ in power * r } })   // torch.pow(r, i − 1)
            rhs.append(hPhiK * Float(factorial) / bh)
            factorial *= i + 1
            hPhiK = hPhiK / hh - Float(1 / Double(factorial))
        }
        let (outer, inner) = predictsX0 ? (tables.sigma, tables.alpha) : (tables.alpha, tables.sigma)
        return Update(sampleFactor: outer[target] / outer[source], outputFactor: inner[target] * hPhi1,
                      residualFactor: inner[target] * bh, older: olderEntries.map(\.output.scalars),
                      ratios: ratios, matrix: matrix, rhs: rhs)
    }

    /// `multistep_uni_p_bh_update`: UniP-`order` from the newest history entry to `target`.
    private func predicted(_ sample: Tensor, to target: Int, order: Int) -> Tensor {
        let u = update(order: order, to: target)
        let weights: [Float] = switch order {
        case 1: []
        case 2: [0.5]
        default: Self.solve(Array(u.matrix.dropLast().map { $0.dropLast() }), Array(u.rhs.dropLast()))
        }
        let x = sample.scalars, m0 = history[history.count - 1].output.scalars
        return Elementwise.tabulate(sample.shape) { i in
            let base = u.sampleFactor * x[i] - u.outputFactor * m0[i]
            guard !weights.isEmpty else { return base }
            var residual: Float = 0
            for k in weights.indices { residual += weights[k] * ((u.older[k][i] - m0[i]) / u.ratios[k]) }
            return base - u.residualFactor * residual
        }
    }

    /// `multistep_uni_c_bh_update`: UniC-`order` redoes the last step from `lastSample` with the new
    /// output `output` at `timestep` (the history does not hold it yet).
    private func corrected(_ lastSample: Tensor, output: Tensor, at timestep: Int, order: Int) -> Tensor {
        let u = update(order: order, to: timestep)
        let weights: [Float] = order == 1 ? [0.5] : Self.solve(u.matrix, u.rhs)
        let last = weights.count - 1
        let x = lastSample.scalars, m0 = history[history.count - 1].output.scalars, mt = output.scalars
        return Elementwise.tabulate(lastSample.shape) { i in
            let base = u.sampleFactor * x[i] - u.outputFactor * m0[i]
            var residual: Float = 0
            for k in 0..<last { residual += weights[k] * ((u.older[k][i] - m0[i]) / u.ratios[k]) }
            return base - u.residualFactor * (residual + weights[last] * (mt[i] - m0[i]))
        }
    }

    /// `torch.linalg.solve` of a small system in float32, as LAPACK's `sgesv` does it: LU with
    /// partial pivoting (the first largest magnitude), the column below a pivot scaled by its
    /// reciprocal, then forward and back substitution.
    static func solve(_ matrix: [[Float]], _ rhs: [Float]) -> [Float] {
        var a = matrix, b = rhs
        let n = b.count
        for column in 0..<n {
            let pivot = (column..<n).max { abs(a[$0][column]) < abs(a[$1][column]) } ?? column   // the first on ties
            a.swapAt(column, pivot)
            b.swapAt(column, pivot)
            let reciprocal = 1 / a[column][column]
            for row in (column + 1)..<n {
                a[row][column] *= reciprocal
                for k in (column + 1)..<n { a[row][k] -= a[row][column] * a[column][k] }
                b[row] -= a[row][column] * b[column]
            }
        }
        var x = b
        for row in (0..<n).reversed() {
            for k in (row + 1)..<n { x[row] -= a[row][k] * x[k] }
            x[row] /= a[row][row]
        }
        return x
    }
}
