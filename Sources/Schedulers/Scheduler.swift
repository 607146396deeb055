import Compute

/// A diffusion sampler: the timesteps to visit and the update that takes a sample from one to the
/// next, given the denoising model's output.
///
/// Mirrors the interface diffusers 0.18.2's schedulers share (schedulers/scheduling_utils.py and
/// each `scheduling_*.py`): `set_timesteps`, `timesteps`, `init_noise_sigma`, `scale_model_input`,
/// `step`, `add_noise`. Schedulers are values that carry state between steps (PNDM's history of
/// model outputs, DPM-Solver's previous prediction), so their stepping methods are `mutating`;
/// ``setTimesteps(stepCount:)`` resets that state. A copy of a scheduler is an independent sampler.
///
/// The denoising loop of diffusers' Stable Diffusion pipelines, which Auffusion uses:
/// ```swift
/// var scheduler = try SchedulerKind.pndm.makeScheduler(configuration: configuration)
/// var random = TorchRandomSource(seed: 42)
/// var latents = random.normal(shape: [1, 4, 32, 128]) * scheduler.initNoiseSigma
/// for t in try scheduler.setTimesteps(stepCount: 100) {
///     let noise = unet(try scheduler.scaleModelInput(latents, timestep: t), t)   // with guidance
///     latents = try scheduler.step(modelOutput: noise, timestep: t, sample: latents, random: &random)
/// }
/// ```
public protocol Scheduler: Sendable {
    /// The training noise schedule (β, ᾱ) the scheduler steps along.
    var noiseSchedule: NoiseSchedule { get }

    /// The inference timesteps set by the last ``setTimesteps(stepCount:)``, in the order they are
    /// visited (largest first); empty before. Values are whole numbers except for Euler's
    /// "linspace" spacing and Karras sigmas, whose timesteps are fractional (float32, as the U-Net
    /// receives them).
    var timesteps: [Float] { get }

    /// The standard deviation of the initial noise: the latents of a generation start as
    /// `N(0, 1) · initNoiseSigma` (1, except for Euler's sigma-scaled samples).
    var initNoiseSigma: Float { get }

    /// How many model evaluations one timestep entry of ``timesteps`` stands for (diffusers'
    /// `order`). 1 for every scheduler here; it scales the img2img slice.
    var order: Int { get }

    /// Chooses `stepCount` inference timesteps and resets the stepping state.
    ///
    /// - Parameter stepCount: the number of inference steps N, 1…`num_train_timesteps`.
    /// - Returns: the new ``timesteps`` (PNDM's has N + 1 entries: its warm-up repeats one).
    /// - Throws: ``SchedulerError/invalidStepCount(_:trainingSteps:)``.
    @discardableResult
    mutating func setTimesteps(stepCount: Int) throws -> [Float]

    /// The model input for `sample` at `timestep` (Euler divides by √(σ² + 1); others return it).
    ///
    /// - Parameters:
    ///   - sample: latents `[B, C, H, W]`.
    ///   - timestep: one of ``timesteps``.
    /// - Returns: a tensor of the same shape.
    func scaleModelInput(_ sample: Tensor, timestep: Float) throws -> Tensor

    /// One denoising step: the sample at the next (smaller) timestep.
    ///
    /// - Parameters:
    ///   - modelOutput: the model's prediction for `sample` (after guidance), shape of `sample`.
    ///   - timestep: the timestep `sample` is at, normally the current entry of ``timesteps``.
    ///   - sample: the current latents `[B, C, H, W]`.
    ///   - random: the source of any noise the step injects (DDIM with η > 0; Euler, which in
    ///     diffusers 0.18.2 draws a tensor on every step even when it does not use it).
    /// - Returns: the previous sample, shape of `sample`.
    /// - Throws: ``SchedulerError`` when timesteps are not set or `timestep` is not usable.
    mutating func step(modelOutput: Tensor, timestep: Float, sample: Tensor,
                       random: inout some RandomSource) throws -> Tensor

    /// The forward process: `original` noised to `timestep` with `noise`.
    ///
    /// - Parameters:
    ///   - original: clean latents x₀ `[B, C, H, W]`.
    ///   - noise: N(0, 1) samples of the same shape.
    ///   - timestep: a training timestep (Euler: one of ``timesteps``).
    /// - Returns: the noisy latents, same shape.
    func addNoise(original: Tensor, noise: Tensor, timestep: Float) throws -> Tensor
}

extension Scheduler {
    public var order: Int { 1 }

    /// The sample as it is: only Euler scales the model input.
    public func scaleModelInput(_ sample: Tensor, timestep: Float) throws -> Tensor { sample }

    /// The schedule of an img2img (SDEdit) run that keeps `1 − strength` of the way untouched,
    /// exactly as diffusers' `StableDiffusionImg2ImgPipeline.get_timesteps`
    /// (pipelines/stable_diffusion/pipeline_stable_diffusion_img2img.py): after
    /// `setTimesteps(stepCount: N)`, `init = min(⌊N·strength⌋, N)`, `start = max(N − init, 0)`, and the
    /// result is `timesteps[start·order…]`. Its first element is the timestep to noise the input to
    /// (``addNoise(original:noise:timestep:)``); then step through all of it.
    ///
    /// The slice is literal, quirks included. PNDM's list has N + 1 entries, so for strength < 1 the
    /// cut falls after its repeated warm-up entry and the run keeps one step of lag (see
    /// ``PNDMScheduler``); strength 0 leaves PNDM one step at t = 1 + offset and the other schedulers
    /// an empty list. ``timesteps`` keeps the full schedule, and stepping the slice behaves as
    /// diffusers does.
    ///
    /// - Parameters:
    ///   - stepCount: N, as for ``setTimesteps(stepCount:)``.
    ///   - strength: how much of the schedule to run, 0…1.
    /// - Returns: the timesteps to step through, largest first; possibly empty.
    /// - Throws: ``SchedulerError/invalidStrength(_:)``; ``SchedulerError/invalidStepCount(_:trainingSteps:)``
    ///   with the largest count whose timesteps stay in the training range; what
    ///   ``setTimesteps(stepCount:)`` throws.
    public mutating func timesteps(stepCount: Int, strength: Double) throws -> [Float] {
        guard strength >= 0 && strength <= 1 else { throw SchedulerError.invalidStrength(strength) }
        guard Self.fits(&self, stepCount) else {
            let largest = largestStepCount()
            if stepCount >= 1 && stepCount <= largest { try setTimesteps(stepCount: stepCount) }   // another reason: say it
            throw SchedulerError.invalidStepCount(stepCount, trainingSteps: largest)
        }
        let initial = min(Int(Double(stepCount) * strength), stepCount)
        let start = max(stepCount - initial, 0)
        return Array(timesteps.dropFirst(start * order))
    }

    /// The largest step count whose timesteps stay in the training range: an offset spacing
    /// ("leading" with steps_offset 1) pushes the last timestep past the table for the largest
    /// counts. What a front end offers as the most steps; 0 when none fits.
    public func largestStepCount() -> Int {
        var probe = self
        return (1...noiseSchedule.trainingSteps).reversed().first { Self.fits(&probe, $0) } ?? 0
    }

    private static func fits(_ scheduler: inout Self, _ count: Int) -> Bool {
        let trainingSteps = Float(scheduler.noiseSchedule.trainingSteps)
        return (try? scheduler.setTimesteps(stepCount: count))?.allSatisfy { $0 < trainingSteps } == true
    }

    /// Checks a step count against the training range.
    func validate(stepCount: Int) throws {
        guard stepCount >= 1 && stepCount <= noiseSchedule.trainingSteps else {
            throw SchedulerError.invalidStepCount(stepCount, trainingSteps: noiseSchedule.trainingSteps)
        }
    }
}
