import Compute
import Schedulers

/// DDIM run backwards, from the clean latents towards noise, as a ``Scheduler`` so that the one
/// denoising loop runs it over the schedule's timesteps in increasing order.
///
/// Port of `next_step` of prompt-to-prompt's null-text inversion as PnP Inversion's
/// `DirectInversion` and ZETA's `ddim_inversion` use it (cure-lab/PnPInversion,
/// models/p2p/inversion.py; HilaManor/AudioEditingCode, code/ddm_inversion/ddim_inversion.py): the
/// step *into* timestep t evaluates the model at t on the latents of the timestep one step below,
/// `s = t − T // N` (ᾱ_s the schedule's final ᾱ below 0, as the denoising step uses), and
///
///     x₀ = (x_s − √(1−ᾱ_s)·ε)/√ᾱ_s,   x_t = √ᾱ_t·x₀ + √(1−ᾱ_t)·ε.
///
/// The references predict ε. For a v-predicting model (the embedded one) ε is taken from v as the
/// model means it at the timestep it was evaluated at, `ε = √ᾱ_t·v + √(1−ᾱ_t)·x` — beyond the
/// references; ``Inversion`` refuses models that predict the sample.
struct InverseDDIMStep: Scheduler {
    private var ddim: DDIMScheduler

    /// - Parameter ddim: the denoising scheduler whose schedule to climb, timesteps set.
    init(ddim: DDIMScheduler) { self.ddim = ddim }

    var noiseSchedule: NoiseSchedule { ddim.noiseSchedule }
    /// The timesteps to visit, smallest first.
    var timesteps: [Float] { ddim.timesteps.reversed() }
    var initNoiseSigma: Float { 1 }

    mutating func setTimesteps(stepCount: Int) throws -> [Float] {
        try ddim.setTimesteps(stepCount: stepCount)
        return timesteps
    }

    func scaleModelInput(_ sample: Tensor, timestep: Float) throws -> Tensor { sample }

    mutating func step(modelOutput: Tensor, timestep: Float, sample: Tensor,
                       random: inout some RandomSource) throws -> Tensor {
        let schedule = ddim.noiseSchedule
        let stepCount = ddim.timesteps.count
        guard stepCount > 0 else { throw SchedulerError.timestepsNotSet(scheduler: "DDIM inversion") }
        guard let target = Int(exactly: timestep), (0..<schedule.trainingSteps).contains(target) else {
            throw SchedulerError.timestepNotInSchedule(timestep)
        }
        let below = min(target - schedule.trainingSteps / stepCount, schedule.trainingSteps - 1)
        let alpha = below >= 0 ? schedule.alphasCumprod[below] : ddim.finalAlphaCumprod
        let alphaNext = schedule.alphasCumprod[target]
        let (a, b) = (alpha.squareRoot(), (1 - alpha).squareRoot())
        let (aNext, bNext) = (alphaNext.squareRoot(), (1 - alphaNext).squareRoot())
        let x = sample.scalars, m = modelOutput.scalars, velocity = ddim.predictionType == .vPrediction
        return Tensor(shape: sample.shape, scalars: x.indices.map { i in
            let e = velocity ? aNext * m[i] + bNext * x[i] : m[i]
            return aNext * ((x[i] - b * e) / a) + bNext * e
        })
    }

    func addNoise(original: Tensor, noise: Tensor, timestep: Float) throws -> Tensor {
        try ddim.addNoise(original: original, noise: noise, timestep: timestep)
    }
}
