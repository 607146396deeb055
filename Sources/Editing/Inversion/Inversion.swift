import Foundation
import Compute
import Models
import Pipeline
import Schedulers

/// A clip inverted into the model's noise: what an edit needs to start from the recording itself
/// rather than from the recording noised away (SDEdit, ``StyleTransfer``).
///
/// - **DDPM** (``InversionSettings/Method/ddpm``): port of ZETA's `inversion_forward_process`
///   (HilaManor/AudioEditingCode, code/ddm_inversion/inversion_utils.py, with models.py
///   `sample_xts_from_x0` and `get_zs_from_xts`, `numerical_fix` on as `main_run.py` sets it): every
///   x_k = √ᾱ·x₀ + √(1−ᾱ)·n_k is drawn independently (n_k from the noise source, smallest timestep
///   first), then for each step the loop evaluates the model at x_{k+1} under the source prompt
///   and records the map z_k that makes the η = 1 DDIM step land on x_k (``NoiseMapSolver``).
///   Regenerating with the maps, the source prompt and its guidance walks the same latents back
///   to the clip's. **Difference from ZETA's code:** it then sets z₀ = 0 (DDPM's noiseless last
///   step), so its regeneration ends at the mean from x₁, off the clip by σ₁·z₀ (σ₁ > 0 because
///   Auffusion's schedule has `set_alpha_to_one` off); the paper's algorithm keeps every map,
///   and so does this port, which makes the reconstruction exact.
/// - **DDIM** (``InversionSettings/Method/ddim``): port of PnP Inversion's `DirectInversion.ddim_loop`
///   (cure-lab/PnPInversion, models/p2p/inversion.py): DDIM run backwards from the clip
///   (``InverseDDIMStep``), its latents kept as the trajectory.
///
/// Both run the one denoising loop of `Pipeline` (``DenoiseRun``) with a stepping rule of their
/// own. Only the last ``InversionSettings/startStep`` steps are inverted, as only they are ever
/// edited (ZETA computes maps for all N and uses the last T_start; the used ones are identical).
///
/// ```swift
/// let inversion = try Inversion(inverting: clip, settings: InversionSettings(method: .ddpm), pipeline: pipeline, noise: &noise)
/// let latents = try inversion.edit(GenerationRequest(prompt: "a cat meowing"), pipeline: pipeline)
/// ```
public struct Inversion: Sendable {
    public let settings: InversionSettings
    /// x₀ … x_K (K = ``InversionSettings/startStep``), `[K + 1, 4, h, w]`, x₀ the clip's latents;
    /// x_k sits at the k-th smallest timestep of the schedule. DDPM: the drawn latents (after
    /// ZETA's numerical fix, so x_k for k < K is the step's landing point); DDIM: the inverted ones.
    public let trajectory: Tensor
    /// DDPM: z₀ … z_{K−1}, `[K, 4, h, w]`, z_k the noise of the step into x_k; DDIM: `nil`.
    public let noiseMaps: Tensor?
    /// What the inversion was made from: ``InversionFingerprint/tensor(_:)`` of the clip's
    /// latents and ``InversionFingerprint/model(at:)`` of the model folder.
    public let clipFingerprint: String
    public let modelFingerprint: String

    /// Inverts `clip` (its ``ClipLatents/latents``).
    /// - Parameter noise: DDPM draws its K noisy latents `[1, 4, h, w]` from it; DDIM draws nothing.
    /// - Throws: ``InversionError``, pipeline and model errors.
    public init(inverting clip: ClipLatents, settings: InversionSettings, pipeline: AuffusionPipeline,
                noise: inout NoiseSource, progress: (DenoiseProgress) -> Bool = { _ in true }) throws {
        try self.init(inverting: clip.latents, settings: settings, pipeline: pipeline, noise: &noise, progress: progress)
    }

    /// Inverts clean latents `[1, 4, h, w]`.
    public init(inverting latents: Tensor, settings: InversionSettings, pipeline: AuffusionPipeline,
                noise: inout NoiseSource, progress: (DenoiseProgress) -> Bool = { _ in true }) throws {
        let ddim = try Self.schedule(settings, pipeline: pipeline, eta: settings.method == .ddpm ? 1 : 0)
        let conditioning = try pipeline.inversionConditioning(prompt: settings.sourcePrompt, guidance: settings.guidance)
        let count = settings.startStep
        var visited: [Tensor] = []
        let record: DenoiseRun.Constraint = { _, latents in
            visited.append(latents)
            return latents
        }
        func run(from latents: Tensor, _ timesteps: [Float], _ scheduler: any Scheduler) throws {
            var run = try DenoiseRun(pipeline: pipeline, start: DenoiseStart(latents: latents, timesteps: timesteps, scheduler: scheduler),
                                     conditioning: conditioning, constraint: record, noise: noise)
            _ = try run.finish(progress: progress)
            noise = run.noise
        }
        switch settings.method {
        case .ddpm:
            let timesteps = Array(ddim.timesteps.suffix(count))                     // largest first
            var drawn = [latents]
            for timestep in timesteps.reversed() {
                drawn.append(try ddim.addNoise(original: latents, noise: try noise.next(shape: latents.shape), timestep: timestep))
            }
            let solver = NoiseMapSolver(ddpm: ddim, targets: drawn.dropLast().reversed())
            try run(from: drawn[count], timesteps, solver)
            trajectory = Tensor.concatenated(visited.reversed() + [drawn[count]], axis: 0)
            noiseMaps = Tensor.concatenated(solver.maps.all.reversed(), axis: 0)
        case .ddim:
            let climb = InverseDDIMStep(ddim: ddim)
            try run(from: latents, Array(climb.timesteps.prefix(count)), climb)
            trajectory = Tensor.concatenated([latents] + visited, axis: 0)
            noiseMaps = nil
        }
        self.settings = settings
        clipFingerprint = InversionFingerprint.tensor(latents)
        modelFingerprint = try InversionFingerprint.model(at: pipeline.directory.root)
    }

    init(settings: InversionSettings, trajectory: Tensor, noiseMaps: Tensor?, clipFingerprint: String, modelFingerprint: String) {
        self.settings = settings
        self.trajectory = trajectory
        self.noiseMaps = noiseMaps
        self.clipFingerprint = clipFingerprint
        self.modelFingerprint = modelFingerprint
    }

    /// The DDIM scheduler of the inversion's schedule on the model's configuration, timesteps set.
    static func schedule(_ settings: InversionSettings, pipeline: AuffusionPipeline, eta: Float) throws -> DDIMScheduler {
        var ddim = try DDIMScheduler(configuration: pipeline.schedulerConfiguration, eta: eta)
        try settings.validate(trainingSteps: ddim.noiseSchedule.trainingSteps)
        guard ddim.predictionType == .epsilon || ddim.predictionType == .vPrediction else {
            throw InversionError.invalidSettings("inversion needs a model that predicts the noise or v, this one predicts \(ddim.predictionType.rawValue)")
        }
        _ = try ddim.timesteps(stepCount: settings.stepCount, strength: 1)   // refuses counts whose timesteps leave the table
        return ddim
    }
}

extension AuffusionPipeline {
    /// The conditioning of one prompt while inverting or editing from an inversion: `prompt`
    /// under `guidance` against the unconditional (or negative) embedding, or — for the empty
    /// prompt — the unconditional embedding alone, as ZETA's forward pass does for `""`.
    func inversionConditioning(prompt: String, guidance: Float, negativePrompt: String? = nil,
                               rescale: Float = 0) throws -> Conditioning {
        guard prompt.trimmingCharacters(in: .whitespaces).isEmpty else {
            var request = GenerationRequest(prompt: prompt)
            request.guidanceScale = guidance
            request.guidanceRescale = rescale
            request.negativePrompt = negativePrompt
            return try conditioning([prompt], request: request)
        }
        return Conditioning(prompts: [prompt], conditional: try text.unconditional(negativePrompt: negativePrompt),
                            unconditional: nil, guidanceScale: 1)
    }
}
