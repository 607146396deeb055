import Compute
import Schedulers
import Synchronization

/// The stepping rule of edit-friendly DDPM inversion's forward pass, as a ``Scheduler`` so that
/// the one denoising loop runs it: each step lands on a latent drawn beforehand instead of drawing
/// noise, and records the noise map that makes DDIM with η = 1 land there.
///
/// Port of ZETA's `get_zs_from_xts` with `numerical_fix` (HilaManor/AudioEditingCode,
/// code/models.py): with μ the mean of the η = 1 DDIM step from x_t and σ_t its noise deviation,
/// `z = (x_{t−1} − μ)/σ_t` and the step returns `μ + σ_t·z` (x_{t−1} up to rounding). A zero
/// deviation (ᾱ of the step below = 1) records a zero map. Stepping `targets` in order, the loop
/// visits x_T, x_{T−1}, … and evaluates the model at each.
struct NoiseMapSolver: Scheduler {
    private var ddpm: DDIMScheduler
    /// The latents each step must land on, in visiting order (x_{T−1} first).
    private let targets: [Tensor]
    /// The maps found so far, in visiting order. Shared with the caller: the loop steps its own
    /// copy of the scheduler, so the maps are collected in a box the copies have in common.
    let maps = MapBox()

    final class MapBox: Sendable {
        private let storage = Mutex<[Tensor]>([])
        var all: [Tensor] { storage.withLock { $0 } }
        var count: Int { storage.withLock { $0.count } }
        func append(_ map: Tensor) { storage.withLock { $0.append(map) } }
        func removeAll() { storage.withLock { $0.removeAll() } }
    }

    /// - Parameters:
    ///   - ddpm: a DDIM scheduler with η = 1, its timesteps set.
    ///   - targets: x_{t−1} for each timestep the loop will visit, in that order.
    init(ddpm: DDIMScheduler, targets: [Tensor]) {
        self.ddpm = ddpm
        self.targets = targets
    }

    var noiseSchedule: NoiseSchedule { ddpm.noiseSchedule }
    var timesteps: [Float] { ddpm.timesteps }
    var initNoiseSigma: Float { ddpm.initNoiseSigma }

    mutating func setTimesteps(stepCount: Int) throws -> [Float] {
        maps.removeAll()
        return try ddpm.setTimesteps(stepCount: stepCount)
    }

    func scaleModelInput(_ sample: Tensor, timestep: Float) throws -> Tensor { sample }

    mutating func step(modelOutput: Tensor, timestep: Float, sample: Tensor,
                       random: inout some RandomSource) throws -> Tensor {
        var silent = SilentNoise()
        let mean = try ddpm.step(modelOutput: modelOutput, timestep: timestep, sample: sample, random: &silent)
        let deviation = try ddpm.noiseDeviation(at: timestep)
        let target = targets[maps.count]
        let map = deviation > 0 ? (target - mean).map { $0 / deviation } : Tensor.zeros(mean.shape)
        maps.append(map)
        return mean + map * deviation
    }

    func addNoise(original: Tensor, noise: Tensor, timestep: Float) throws -> Tensor {
        try ddpm.addNoise(original: original, noise: noise, timestep: timestep)
    }
}

/// Zero "noise": the mean of a stochastic step.
struct SilentNoise: RandomSource {
    mutating func normal(shape: [Int]) -> Tensor { .zeros(shape) }
}
