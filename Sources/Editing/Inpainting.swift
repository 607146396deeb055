import AudioDSP
import Compute
import Pipeline

/// Regenerates the masked time ranges (and band) of a clip under a prompt, keeping the rest.
///
/// Matches diffusers 0.18.2 `StableDiffusionInpaintPipeline.__call__` with a 4-channel U-Net
/// (pipelines/stable_diffusion/pipeline_stable_diffusion_inpaint.py; Auffusion
/// `notebooks/inpainting.ipynb`, docs/reference.md §7.4): timesteps = `get_timesteps(N, strength)`; one tensor
/// `n` is drawn; the latents start at `n · initNoiseSigma` at strength 1 (`is_strength_max`), else
/// at `addNoise(z₀, n, timesteps[0])`; after step i, outside the mask `x = addNoise(z₀, n,
/// timesteps[i + 1])` (z₀ itself after the last step), inside the model's (`x = (1 − m)·ref +
/// m·x`). The mask comes from ``EditMask`` (outward rounding, see there).
///
/// RNG: the reference draws (1) a posterior sample of the image, (2) `n`, (3) a posterior sample
/// of the masked image and (4) of the image again (both unused by a 4-channel U-Net). With the
/// posterior mean (the default of ``ClipLatents``) only draw 2 remains; with a posterior sample,
/// draws 1 and 2 (3 and 4 are not made, so later draws, e.g. DDIM η > 0, differ from diffusers).
///
/// Beyond the reference (the default): the output keeps the clip's samples outside the masked
/// ranges exactly and crossfades (equal power, ``crossfadeSeconds``) into the generated audio at
/// each inner edge (``Crossfade``); the fill is made as loud as the audio around it
/// (``fillLevel``); with a band, only the band is replaced and the clip's own signal is kept
/// outside it (``BandSplice``). ``FillPlacement`` says how. ``raw`` returns the decoded canvas as
/// the reference does.
///
/// ```swift
/// let mask = try EditMask(ranges: [2.56..<7.68], clipDuration: clip.duration)
/// var noise = NoiseSource(seed: 41)
/// let result = try Inpainting(mask: mask).run(on: clip, request: GenerationRequest(prompt: "a siren"),
///                                             pipeline: pipeline, noise: &noise)
/// ```
public struct Inpainting: Sendable {
    public var mask: EditMask
    /// How much of the schedule to run, 0…1; 1 (the reference's default) starts from pure noise.
    public var strength = 1.0
    /// Length of each crossfade in seconds (default 20 ms); 0 cuts hard.
    public var crossfadeSeconds = 0.020
    /// Return the decoded result as the reference does, without splicing it into the clip.
    public var raw = false
    /// How loud the fill is made (default: at the level of the audio around it).
    public var fillLevel = FillLevel.context

    public init(mask: EditMask) { self.mask = mask }

    /// The pass this edit is (``EditPass/inpainting(mask:strength:request:)``).
    public func pass(_ request: GenerationRequest) -> EditPass { .inpainting(mask: mask, strength: strength, request: request) }

    /// Inpaints `clip` under `request`'s prompt (its step count, guidance and sampler): a plan of one pass.
    ///
    /// - Parameter noise: supplies the one tensor `[1, 4, h, w]` the edit draws.
    /// - Returns: the result on the whole canvas; ``GenerationResult/audio`` has the clip's length
    ///   and is the spliced audio unless ``raw``.
    /// - Throws: ``EditPlanError`` naming what is wrong, ``EditingError`` for a bad crossfade,
    ///   ``PipelineError`` and model errors.
    public func run(on clip: ClipLatents, request: GenerationRequest, pipeline: AuffusionPipeline,
                    noise: inout NoiseSource, progress: (DenoiseProgress) -> Bool = { _ in true }) throws -> GenerationResult {
        try EditingError.check(strength: strength)
        var plan = EditPlan([pass(request)])
        plan.crossfadeSeconds = crossfadeSeconds
        plan.raw = raw
        plan.fillLevel = fillLevel
        return try plan.run(clip: clip, pipeline: pipeline, noise: &noise) { $0.step(to: progress) }.output
    }
}
