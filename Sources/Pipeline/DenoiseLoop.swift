import Compute
import Models
import Schedulers

/// Where a run is, for progress reporting; the handler returns `false` to cancel.
public struct Progress: Sendable {
    /// Steps done, 1…``total``.
    public var step: Int
    public var total: Int
    /// The timestep just denoised.
    public var timestep: Float
}

/// The one denoising loop every operation runs, with the three extension points of
/// `docs/architecture.md`: where it starts (latents and timesteps), what is forced on the latents
/// after each step (a constraint), and who may edit attention (a controller).
///
/// Each step evaluates the U-Net once on `[x, x]` (`[unconditional…, conditional…]` context) when
/// guidance is on, else on `x` alone, combines with ``Guidance``, and lets the scheduler step —
/// diffusers' Stable Diffusion loop, so PNDM's repeated warm-up timestep is evaluated twice.
public struct DenoiseLoop {
    /// Called after every scheduler step with the step index and the new latents; returns the
    /// latents to continue from (inpainting blends the known region back in here).
    public typealias Constraint = (_ index: Int, _ latents: Tensor) throws -> Tensor

    public let unet: UNet2DConditionModel
    /// `[P, M, C]` conditional and unconditional embeddings (one row per prompt).
    public let conditional: Tensor
    public let unconditional: Tensor?
    public var guidanceScale: Float
    public var guidanceRescale: Float

    public init(unet: UNet2DConditionModel, conditional: Tensor, unconditional: Tensor?, guidanceScale: Float,
                guidanceRescale: Float = 0) {
        self.unet = unet
        self.conditional = conditional
        self.unconditional = unconditional
        self.guidanceScale = guidanceScale
        self.guidanceRescale = guidanceRescale
    }

    /// Denoises `latents` `[P, 4, h, w]` through `timesteps` with `scheduler` (already set up for
    /// this schedule) and returns the final latents.
    public func run(latents start: Tensor, timesteps: [Float], scheduler: inout any Scheduler, random: inout NoiseSource,
                    constraint: Constraint? = nil, controller: (any AttentionController)? = nil,
                    progress: (Progress) -> Bool = { _ in true }) throws -> Tensor {
        var latents = start
        let guided = unconditional != nil && guidanceScale > 1
        let context = guided ? Tensor.concatenated([unconditional ?? conditional, conditional], axis: 0) : conditional
        for (index, timestep) in timesteps.enumerated() {
            let input = try scheduler.scaleModelInput(latents, timestep: timestep)
            let batch = guided ? Tensor.concatenated([input, input], axis: 0) : input    // [2P or P, 4, h, w]
            let output = try unet(batch, timesteps: [Float](repeating: timestep, count: batch.shape[0]),
                                  context: context, controller: controller)
            let noise = guided ? Guidance.combine(output, scale: guidanceScale, rescale: guidanceRescale) : output
            latents = try scheduler.step(modelOutput: noise, timestep: timestep, sample: latents, random: &random)
            if let constraint { latents = try constraint(index, latents) }
            guard progress(Progress(step: index + 1, total: timesteps.count, timestep: timestep)) else {
                throw PipelineError.cancelled
            }
        }
        return latents
    }
}
