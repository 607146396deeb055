import Compute
import Foundation

/// What the multistep solvers that integrate the diffusion ODE in λ share: DPM-Solver++
/// (``DPMSolverMultistepScheduler``) and UniPC (``UniPCMultistepScheduler``).
///
/// Both diffusers 0.18.2 classes build the same float32 tables in `__init__` — α_t = √ᾱ_t,
/// σ_t = √(1 − ᾱ_t), λ_t = ln α_t − ln σ_t — choose their timesteps with the same `set_timesteps`
/// (DPM-Solver adds `lambda_min_clipped`, which UniPC does not have: −∞ clips nothing), find a
/// step's place in the list the same way, and turn a model output into a prediction of x₀ with the
/// same `convert_model_output` (schedulers/scheduling_dpmsolver_multistep.py and
/// scheduling_unipc_multistep.py).
struct LambdaTables: Sendable {
    /// The training schedule the tables are built from.
    let noiseSchedule: NoiseSchedule
    /// α_t = √ᾱ_t, σ_t = √(1 − ᾱ_t) and λ_t = ln α_t − ln σ_t, t = 0…T−1 (float32).
    let alpha: [Float], sigma: [Float], lambda: [Float]

    init(_ noiseSchedule: NoiseSchedule) {
        self.noiseSchedule = noiseSchedule
        alpha = noiseSchedule.alphasCumprod.map { $0.squareRoot() }
        sigma = noiseSchedule.alphasCumprod.map { (1 - $0).squareRoot() }
        // The reference's tables come from MKL's square root and Sleef's logarithm, each within
        // 1 ulp of the IEEE square root and the correctly rounded logarithm used here.
        lambda = zip(alpha, sigma).map { Float(log(Double($0))) - Float(log(Double($1))) }
    }

    /// `set_timesteps`: N timesteps, largest first, duplicates removed (first occurrences kept, as
    /// `np.unique` with sorted indices), so that Karras schedules and N near T may be shorter.
    ///
    /// Without Karras sigmas: "linspace" takes N + 1 points over the unclipped range and drops the
    /// final 0; "leading" is `i·⌊T′/(N + 1)⌋ + steps_offset` for i = N…1 (T′ the unclipped length);
    /// "trailing" is `round(arange(T′, 0, −T/N)) − 1`. With Karras sigmas: the rounded training
    /// times of N ``KarrasSigmas`` levels, largest first.
    func timesteps(count: Int, spacing: TimestepSpacing, stepsOffset: Int,
                   useKarrasSigmas: Bool, lambdaMinClipped: Double = -.infinity) -> [Float] {
        var values: [Int]
        if useKarrasSigmas {
            let table = noiseSchedule.sigmas
            let logSigmas = KarrasSigmas.logarithms(table)
            let levels = KarrasSigmas.sigmas(from: Double(table[0]), to: Double(table[table.count - 1]), count: count)
            values = levels.reversed().map { Int(KarrasSigmas.timestep(for: $0, logSigmas: logSigmas).roundedHalfToEven) }
        } else {
            let trainingSteps = noiseSchedule.trainingSteps
            // searchsorted(flip(λ), lambda_min_clipped): how many of the smallest λ fall below the clip.
            let clipped = lambda.reversed().prefix { Double($0) < lambdaMinClipped }.count
            let last = trainingSteps - clipped
            switch spacing {
            case .linspace:
                values = NumPyRanges.linspace(0, Double(last - 1), count: count + 1).reversed().dropLast()
                    .map { Int($0.roundedHalfToEven) }
            case .leading:
                let ratio = last / (count + 1)
                values = (1...count).reversed().map { $0 * ratio + stepsOffset }
            case .trailing:
                let ratio = Double(trainingSteps) / Double(count)
                values = NumPyRanges.arange(Double(last), 0, step: -ratio).map { Int($0.roundedHalfToEven) - 1 }
            }
        }
        var seen = Set<Int>()
        return values.filter { seen.insert($0).inserted }.map { Float($0) }
    }

    /// Where a step stands, after the checks every step makes: the training timestep `timestep`
    /// names, its index in `timesteps` (the last index when absent, as both classes do), and the
    /// training timestep the step goes to (the next entry, 0 after the last).
    ///
    /// - Throws: ``SchedulerError/timestepsNotSet(scheduler:)`` before `setTimesteps`; what
    ///   ``NoiseSchedule`` throws for a timestep that is not a whole training timestep.
    func position(of timestep: Float, in timesteps: [Float], output: Tensor, sample: Tensor,
                  scheduler: String) throws -> (current: Int, index: Int, target: Int) {
        guard !timesteps.isEmpty else { throw SchedulerError.timestepsNotSet(scheduler: scheduler) }
        Elementwise.requireSameShape(output, sample, scheduler: scheduler)
        let current = try noiseSchedule.trainingTimestep(timestep)
        _ = try noiseSchedule.alphaProduct(at: current)   // range check
        let count = timesteps.count
        let index = timesteps.firstIndex(of: timestep) ?? count - 1
        return (current, index, index == count - 1 ? 0 : Int(timesteps[index + 1]))
    }

    /// `convert_model_output` in data-prediction form: the x₀ that `output` implies for `sample`
    /// at training timestep `t` — (x − σ_t·ε)/α_t, α_t·x − σ_t·v, or the output itself.
    func dataPrediction(_ output: Tensor, at t: Int, sample: Tensor, type: PredictionType) -> Tensor {
        let alpha = alpha[t], sigma = sigma[t]
        let x = sample.scalars, m = output.scalars
        switch type {
        case .epsilon: return Elementwise.tabulate(sample.shape) { (x[$0] - sigma * m[$0]) / alpha }
        case .vPrediction: return Elementwise.tabulate(sample.shape) { alpha * x[$0] - sigma * m[$0] }
        case .sample, .originalSample: return output
        }
    }
}
