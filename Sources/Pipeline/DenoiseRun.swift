import Compute
import Models
import Schedulers

/// Where a run is, for progress reporting; the handler returns `false` to cancel.
public struct DenoiseProgress: Sendable {
    /// Steps done, 1…``total``.
    public var step: Int
    public var total: Int
    /// The timestep just denoised.
    public var timestep: Float

    public init(step: Int, total: Int, timestep: Float) {
        self.step = step
        self.total = total
        self.timestep = timestep
    }
}

/// The one denoising loop every operation runs, as a sequence of steps the caller drives (the
/// shape of mlx-swift-examples' `DenoiseIterator`): a command prints progress between steps, a
/// server streams it and cancels by not asking for the next one.
///
/// Its three extension points (docs/architecture.md) are the ``DenoiseStart`` it begins from, the
/// ``Constraint`` forced on the latents after each step, and the ``AttentionController`` the
/// U-Net's attention layers consult. Each step evaluates the U-Net once on `[x, x]`
/// (`[unconditional…, conditional…]` context) when guidance runs, else on `x` alone, combines with
/// ``Guidance`` and lets the scheduler step — diffusers' Stable Diffusion loop
/// (`StableDiffusionPipeline.__call__`, 0.18.2), so PNDM's repeated warm-up timestep is evaluated twice.
///
/// Latents wider than the model's canvas (a long clip, a long generation) are evaluated window by
/// window (``LatentWindows``) and the windows' predictions joined before the one scheduler step
/// on the whole span; the schedulers act column by column, so this is MultiDiffusion's joint
/// step. Latents as wide as the canvas or narrower are one window, evaluated as before.
///
/// ``SpeedOptions`` make it approximate on request: a step after the run's guided fraction
/// evaluates the conditional rows alone (`[x]` on the conditional context; an attention
/// controller then sees `[conditional…]`, which every controller of `Editing` handles, as it
/// does a run without guidance), and with feature caching a step between full evaluations runs
/// the U-Net's shallow branch on the deep features stored at the last full one
/// (``UNetFeatureCache``, one per window). The constraint runs after every step as before.
///
/// ```swift
/// var run = try DenoiseRun(pipeline: pipeline, start: start, conditioning: conditioning, noise: noise)
/// while let step = try run.next() { print("step \(step.progress.step)/\(step.progress.total)") }
/// let latents = run.latents
/// ```
public struct DenoiseRun {
    /// Called after every scheduler step with the step index and the new latents; returns the
    /// latents to continue from (inpainting blends the known region back in here).
    public typealias Constraint = (_ index: Int, _ latents: Tensor) throws -> Tensor

    /// One finished step.
    public struct Step {
        public var progress: DenoiseProgress
        /// The latents after the step (and the constraint).
        public var latents: Tensor
    }

    private let unet: UNet2DConditionModel
    private let conditioning: Conditioning
    private let context: Tensor
    private let timesteps: [Float]
    private var scheduler: any Scheduler
    private let constraint: Constraint?
    /// The attention controller of each window (one window: the run's controller).
    private let controllers: [(any AttentionController)?]
    private let windows: LatentWindows
    private let join: LatentWindows.Join
    private let speed: SpeedOptions
    /// DeepCache's stored features, one cache per window (empty when the run does not cache).
    private var caches: [UNetFeatureCache]
    private var index = 0
    /// The latents `[P, 4, h, w]` so far: the start's, then each step's.
    public private(set) var latents: Tensor
    /// The noise source the scheduler draws from; a later run (the next pass of an edit plan)
    /// continues from it.
    public private(set) var noise: NoiseSource

    /// Prepares a run of `pipeline`'s U-Net from `start` under `conditioning`.
    /// `join` says how the windows of latents wider than the canvas are joined; an attention edit
    /// of such latents gives one controller per window (`windowControllers`, each counting its own
    /// layers and steps) instead of `controller`.
    /// `speed` says which approximations the steps make (none by default).
    /// - Throws: ``PipelineError/invalidRequest(_:)`` when the start's latents do not have one row
    ///   per prompt, when one controller would see more than one window, or when the window
    ///   controllers are not one per window, or when a controller was built for other prompts or
    ///   another U-Net (``AttentionController/runShape``); ``PipelineError/invalidValue(field:reason:)`` for bad
    ///   `speed` values; ``PipelineError/incompatibleOptions(_:_:reason:)`` for feature caching with
    ///   an attention controller.
    public init(pipeline: AuffusionPipeline, start: DenoiseStart, conditioning: Conditioning,
                constraint: Constraint? = nil, controller: (any AttentionController)? = nil,
                windowControllers: [any AttentionController] = [], noise: NoiseSource,
                join: LatentWindows.Join = .crossfade, speed: SpeedOptions = .exact) throws {
        try pipeline.validate(speed)
        if speed.cachesFeatures, controller != nil || !windowControllers.isEmpty {
            throw Self.cachingRefusesAttention
        }
        guard start.latents.shape.first == conditioning.promptCount else {
            throw PipelineError.invalidRequest(
                "the start has \(start.latents.shape.first ?? 0) latent rows for \(conditioning.promptCount) prompts")
        }
        windows = LatentWindows(spanWidth: start.latents.shape[3], windowWidth: pipeline.canvasLatentWidth)
        guard controller == nil || !windows.isWindowed else {
            let seconds = Double(pipeline.canvasFrames) / pipeline.melParameters.framesPerSecond
            throw PipelineError.invalidRequest("""
                one attention controller sees one canvas of the model (\(seconds) s); these latents need \(windows.offsets.count) \
                windows, one controller each
                """)
        }
        guard windowControllers.isEmpty || windowControllers.count == windows.offsets.count else {
            throw PipelineError.invalidRequest("\(windowControllers.count) window controllers for \(windows.offsets.count) windows")
        }
        controllers = windowControllers.isEmpty ? windows.offsets.map { _ in controller } : windowControllers
        let runShape = AttentionRunShape(promptCount: conditioning.promptCount,
                                         layersPerEvaluation: pipeline.unetConfiguration.attentionLayerCount)
        if let shape = controllers.lazy.compactMap({ $0?.runShape }).first(where: { $0 != runShape }) {
            throw PipelineError.invalidRequest("the attention controller was built for \(shape); this run has \(runShape)")
        }
        self.join = join
        self.speed = speed
        caches = speed.cachesFeatures ? windows.offsets.map { _ in UNetFeatureCache(branch: speed.cacheBranch) } : []
        unet = try pipeline.unet
        self.conditioning = conditioning
        context = conditioning.context
        timesteps = start.timesteps
        scheduler = start.scheduler
        self.constraint = constraint
        latents = start.latents
        self.noise = noise
    }

    /// The number of steps the run makes.
    public var stepCount: Int { timesteps.count }

    /// Whether every step has run.
    public var isFinished: Bool { index >= timesteps.count }

    /// Runs the next step and returns it, or `nil` when the run is finished.
    public mutating func next() throws -> Step? {
        guard !isFinished else { return nil }
        let timestep = timesteps[index]
        let input = try scheduler.scaleModelInput(latents, timestep: timestep)
        var predictions: [Tensor] = []
        for window in windows.offsets.indices {
            predictions.append(try predict(windows.isWindowed ? input.sliced(axis: 3, windows.columns(of: window)) : input,
                                           timestep: timestep, window: window))
            // A window's controller makes its long-lived maps at its first evaluation, among that
            // evaluation's short-lived activations; the holes around them, one set per window,
            // are handed back (a 120 s swap --from peaked anywhere from 0.2 to 1.8 GB without).
            if index == 0 && windows.isWindowed && controllers[window] != nil { HeapMemory.returnFreed() }
        }
        let prediction = windows.joined(predictions, join: join, step: index)
        latents = try scheduler.step(modelOutput: prediction, timestep: timestep, sample: latents, random: &noise)
        if let constraint { latents = try constraint(index, latents) }
        index += 1
        if !isFinished, evaluation(step: index) != evaluation(step: index - 1) { HeapMemory.returnFreed() }
        return Step(progress: DenoiseProgress(step: index, total: timesteps.count, timestep: timestep), latents: latents)
    }

    /// What step `index` evaluates: both halves of guidance or the conditional rows alone, the whole
    /// U-Net or its shallow branch. When that changes, so do the shapes of the step's activations,
    /// and the heap's holes from the last kind are handed back (``HeapMemory/returnFreed()``)
    /// instead of staying resident beside the new kind's (docs/compute.md, "Peak memory of a
    /// generation"). The exact path never changes kind, so it never pays for that.
    private func evaluation(step index: Int) -> (guided: Bool, full: Bool) {
        (conditioning.usesGuidance && speed.guides(step: index, of: timesteps.count), speed.evaluatesFully(step: index))
    }

    /// The noise prediction for `input` `[P, 4, h, w]` of `window` at `timestep`: guided on the
    /// steps ``SpeedOptions/guides(step:of:)`` allows, else the conditional rows alone; the whole
    /// U-Net, or its shallow branch between the full evaluations of feature caching; its products
    /// in ``SpeedOptions/products``.
    private mutating func predict(_ input: Tensor, timestep: Float, window: Int) throws -> Tensor {
        let guided = evaluation(step: index).guided
        let batch = guided ? Tensor.concatenated([input, input], axis: 0) : input    // [2P or P, 4, h, w]
        let times = [Float](repeating: timestep, count: batch.shape[0])
        let stepContext = guided ? context : conditioning.conditional                  // [2P or P, rows, width]
        let output = try ProductPrecision.with(speed.products) { () throws -> Tensor in
            if caches.isEmpty {
                return try unet(batch, timesteps: times, context: stepContext, controller: controllers[window])
            } else if speed.evaluatesFully(step: index) || caches[window].features == nil {
                return try unet(batch, timesteps: times, context: stepContext, storingFeaturesIn: &caches[window])
            }
            caches[window].keepLastRows(batch.shape[0])
            return try unet(batch, timesteps: times, context: stepContext, reusing: caches[window])
        }
        return guided ? Guidance.combine(output, scale: conditioning.guidanceScale, rescale: conditioning.guidanceRescale) : output
    }

    /// Feature caching skips most attention layers on its cached steps, where a controller could
    /// neither edit nor observe them.
    static let cachingRefusesAttention = PipelineError.incompatibleOptions(
        "cache_interval above 1 (feature caching)", "an attention controller (prompt-to-prompt edits, attention maps)",
        reason: "a cached step skips the deep attention layers, which could then be neither edited nor observed; use cache_interval 1")

    /// Runs the remaining steps, reporting each to `progress`, and returns the final latents.
    /// - Throws: ``PipelineError/cancelled`` when `progress` returns `false`; model errors.
    public mutating func finish(progress: (DenoiseProgress) -> Bool = { _ in true }) throws -> Tensor {
        while let step = try next() {
            guard progress(step.progress) else { throw PipelineError.cancelled }
        }
        return latents
    }
}
