import AudioDSP
import Compute
import Models
import Pipeline

/// Where a plan is: the pass (from 1), the step within it and the steps of the whole plan, so
/// that a time left can count the passes still to come.
public struct EditProgress: Sendable {
    public var pass: Int
    public var passCount: Int
    /// The step within the pass.
    public var step: DenoiseProgress
    /// Steps done over the whole plan, 1…``totalSteps``.
    public var stepsDone: Int
    public var totalSteps: Int
    /// While the plan encodes its clip or decodes and vocodes its result: that work's progress;
    /// `nil` while it denoises. A clip of several spans (``EditSpans``) is encoded before each
    /// span's steps and rendered after them; while a span is encoded ``step`` is zero, and
    /// ``totalSteps`` is 0 until the first span's latents let the plan be checked. While a result
    /// is rendered ``step`` keeps the last step; a plan that also renders its source
    /// (`renderSource`) renders twice, each stage counting its windows from 1 again.
    public var rendering: RenderProgress? = nil

    /// Hands the step to `handler`, a single run's progress, which hears neither the encoding nor
    /// the rendering around the steps: those go on.
    public func step(to handler: (DenoiseProgress) -> Bool) -> Bool { rendering == nil ? handler(step) : true }
}

/// What a plan produced. Not `Sendable`: it shares the controller's mutable ``AttentionStore``.
public struct EditResult {
    /// The edited result: on the clip's canvas, its audio spliced into the clip or trimmed to it.
    public var output: GenerationResult
    /// The last pass's source prompt, rendered, when the plan ends with an attention edit and
    /// the caller asked for it.
    public var source: GenerationResult?
    /// The attention the last attention edit stored: the per-word maps of `--maps`; for an edit
    /// run in windows of the canvas (one controller each), their cross-attention joined over the
    /// span (``AttentionStore/init(joining:windows:)``).
    public var attentionStore: AttentionStore?
    /// What the finishing step spliced into the clip, for splicing into the user's file
    /// (``EditedFile``): empty without a clip or when ``EditPlan/raw``.
    public var fills: [Fill] = []
    /// The same for ``source``.
    public var sourceFills: [Fill] = []
    /// What the finishing step did to each of ``fills`` in the clip.
    public var fillReports: [FillReport] = []
}

/// The one way to edit: passes chained on the latents, each one run of the denoising loop
/// (``EditPass``), with one finishing step — decode and vocode the last pass's latents once (no
/// vocoder round trip in between, docs/architecture.md), then trim to the clip or splice into it.
/// ``StyleTransfer``, ``Inpainting`` and prompt-to-prompt on a clip are plans of one pass.
///
/// Every pass draws one Gaussian tensor `[1, 4, h, w]` from the noise source (a `.noise` pass
/// with one noise per prompt draws `[P, 4, h, w]`), then what its scheduler draws; a pass with
/// attention starts every prompt from the same latents unless it asks for one noise each.
///
/// When a plan edits a clip and every pass is masked, the output keeps the clip outside the
/// union of the masks' time ranges sample for sample and splices the generated audio in
/// (``FillPlacement``: at the level of the surroundings, only the masks' band when they have one,
/// crossfaded); ``raw`` returns the decoded canvas instead. A plan with any unmasked pass changes
/// the whole clip. ``EditResult/fills`` carry the same to the user's file (``EditedFile``).
///
/// ```swift
/// let restyle = EditPass.styleTransfer(strength: 0.6, request: GenerationRequest(prompt: "a cat meowing"))
/// let fill = EditPass(start: .previous(strength: 1), constraint: .mask(mask), request: GenerationRequest(prompt: "a siren"))
/// var noise = NoiseSource(seed: 7)
/// let result = try EditPlan([restyle, fill]).run(clip: clip, pipeline: pipeline, noise: &noise)
/// ```
public struct EditPlan: Sendable {
    public var passes: [EditPass]
    /// Length of each crossfade in seconds when the result is spliced into the clip (default 20 ms).
    public var crossfadeSeconds = 0.020
    /// Return the decoded result even when every pass is masked.
    public var raw = false
    /// How loud masked fills are made (default: at the level of the audio around them).
    public var fillLevel = FillLevel.context
    /// The most audio measured on each side of a masked range for ``FillLevel/context``, seconds.
    public var contextSeconds = 0.5

    public init(_ passes: [EditPass]) { self.passes = passes }

    /// Checks the whole plan against `pipeline` before anything runs: every pass's values, its
    /// request on the plan's canvas, its words (swap, reweight and blend words must be in their
    /// prompts) and its replacement bounds. Returns each pass's step count.
    /// - Throws: ``EditPlanError`` naming the pass; ``EditingError/invalidCrossfade(_:)``, ``EditingError/invalidContext(_:)``.
    @discardableResult
    public func validate(clip: ClipLatents?, pipeline: AuffusionPipeline) throws -> [Int] {
        try checkPassesAndFinishing()
        guard let first = passes.first else { throw EditPlanError.empty }
        // A clip encoded on one canvas holds at most the canvas: a mask past it would edit nothing
        // and its fill would replace that part of the user's file with what the model never made.
        if let clip { try checkMasks(within: clip.duration, pipeline: pipeline) }
        let canvasFrames = self.canvasFrames(clip: clip, pipeline: pipeline, first: first)
        return try passes.enumerated().map { index, pass in
            try pass.validate(index: index, hasClip: clip != nil)
            return try Self.naming(pass: index) {
                try Self.check(pass, canvasFrames: canvasFrames, pipeline: pipeline) { inversion in
                    try clip.map { try inversion.settings(for: $0.latents, pipeline: pipeline) } ?? inversion.declaredSettings()
                }
            }
        }
    }

    /// That every mask lies within a clip of `duration` seconds (a frame's rounding allowed).
    /// - Throws: ``EditingError/invalidMask(_:)``.
    func checkMasks(within duration: Double, pipeline: AuffusionPipeline) throws {
        let slack = 1 / pipeline.melParameters.framesPerSecond
        for case .mask(let mask) in passes.map(\.constraint) {
            if let range = mask.ranges.first(where: { $0.upperBound > duration + slack }) {
                throw EditingError.invalidMask("the masked range \(range.lowerBound)-\(range.upperBound) s lies outside the clip (0-\(duration) s)")
            }
        }
    }

    /// That there is a pass, and that the finishing lengths are lengths.
    /// - Throws: ``EditPlanError/empty``, ``EditingError/invalidCrossfade(_:)``, ``EditingError/invalidContext(_:)``.
    func checkPassesAndFinishing() throws {
        guard !passes.isEmpty else { throw EditPlanError.empty }
        try placement.validate()
    }

    /// Checks what needs no clip, for a front end that answers before it encodes one (a server's
    /// submit): as ``validate(clip:pipeline:)`` does, on one canvas of the model, with the clip
    /// the plan's starts ask for taken as given and an inversion's settings as declared (a saved
    /// one's read from its file). ``validate(clip:pipeline:)`` checks all of it again with the clip.
    /// - Throws: ``EditPlanError`` naming the pass; ``EditingError/invalidCrossfade(_:)``, ``EditingError/invalidContext(_:)``.
    public func validateWithoutClip(pipeline: AuffusionPipeline) throws {
        try checkPassesAndFinishing()
        for (index, pass) in passes.enumerated() {
            try pass.validate(index: index, hasClip: true)
            _ = try Self.naming(pass: index) {
                try Self.check(pass, canvasFrames: pipeline.canvasFrames, pipeline: pipeline) { try $0.declaredSettings() }
            }
        }
    }

    /// One pass's request, steps, inversion and attention edit on a canvas of `canvasFrames`
    /// frames, the inversion's settings from `settings`; returns the pass's step count.
    private static func check(_ pass: EditPass, canvasFrames: Int, pipeline: AuffusionPipeline,
                              settings: (InversionStart) throws -> InversionSettings) throws -> Int {
        let request = Self.request(of: pass, canvasFrames: canvasFrames, pipeline: pipeline)
        try pipeline.validate(request)
        if let resolution = pass.attention?.blend?.resolution {
            try Self.checkBlend(resolution, canvasFrames: min(canvasFrames, pipeline.canvasFrames), pipeline: pipeline)
        }
        if case .inversion(let inversion) = pass.start {
            let settings = try settings(inversion)
            _ = try Inversion.schedule(settings, pipeline: pipeline, eta: 0)
            let steps = inversion.editSteps(settings)
            guard steps <= settings.startStep else {
                throw InversionError.startBeyondInversion(requested: steps, available: settings.startStep)
            }
            _ = try Self.attentionEdit(of: pass, steps: steps, pipeline: pipeline)
            return steps + (inversion.inverts ? settings.startStep : 0)
        }
        var scheduler = try pipeline.makeScheduler(request.scheduler)
        let timesteps = try scheduler.timesteps(stepCount: request.stepCount, strength: pass.strength)
        _ = try Self.attentionEdit(of: pass, steps: Self.controllerSteps(pass, timesteps: timesteps), pipeline: pipeline)
        return timesteps.count
    }

    /// Runs the passes in order and renders the last one's latents.
    ///
    /// - Parameters:
    ///   - clip: the input clip, needed by `.clip` starts; its canvas is the plan's and the audio
    ///     is trimmed to it. Without a clip, the first pass's request gives canvas and duration.
    ///   - renderSource: also render the last pass's source prompt (``EditResult/source``).
    ///   - progress: where the plan is; return `false` to cancel.
    /// - Returns: the result; ``GenerationResult/initialLatents`` is the first pass's start.
    /// - Throws: ``EditPlanError`` naming the pass (the whole plan is checked first, by
    ///   ``validate(clip:pipeline:)``); errors of a running pass are wrapped in
    ///   ``EditPlanError/passFailed(_:cause:)``; ``PipelineError/cancelled``.
    public func run(clip: ClipLatents?, pipeline: AuffusionPipeline, noise: inout NoiseSource, renderSource: Bool = false,
                    progress: (EditProgress) -> Bool = { _ in true }) throws -> EditResult {
        let stepCounts = try validate(clip: clip, pipeline: pipeline)
        let canvasFrames = self.canvasFrames(clip: clip, pipeline: pipeline, first: passes[0])
        var latents = Tensor.zeros(pipeline.latentShape(canvasFrames: canvasFrames))   // [P, 4, h, w] of the last pass
        var initial: Tensor?
        var dropped = 0
        var store: AttentionStore?
        let totalSteps = stepCounts.reduce(0, +)
        var lastStep = DenoiseProgress(step: 0, total: 0, timestep: 0)
        for (index, pass) in passes.enumerated() {
            let stepsBefore = stepCounts[..<index].reduce(0, +)
            let previous = latents.sliced(axis: 0, (latents.shape[0] - 1)..<latents.shape[0])
            try Self.naming(pass: index) {
                let request = Self.request(of: pass, canvasFrames: canvasFrames, pipeline: pipeline)
                let prompts = pass.prompts
                func report(_ step: DenoiseProgress, after done: Int) -> Bool {
                    lastStep = step
                    return progress(EditProgress(pass: index + 1, passCount: passes.count, step: step,
                                                 stepsDone: stepsBefore + done + step.step, totalSteps: totalSteps))
                }
                let start: DenoiseStart
                var constraint: DenoiseRun.Constraint?
                var ownNoise: NoiseSource?         // what the run draws, when not the plan's noise
                var stepsDone = 0                  // the pass's steps before its run (inverting)
                switch pass.start {
                case .noise:
                    start = try pipeline.noiseStart(request, promptCount: prompts.count, sharing: pass.promptNoise, noise: &noise)
                case .inversion(let source):
                    guard let clip else { throw EditPlanError.invalidPass(index + 1, field: "start", reason: "an inversion start needs an input clip") }
                    let inversion = try source.inversion(of: clip.latents, pipeline: pipeline, noise: &noise) { report($0, after: 0) }
                    stepsDone = source.inverts ? inversion.settings.startStep : 0
                    let inverted = try inversion.start(prompts: prompts.count, startStep: source.editSteps(inversion.settings),
                                                       pipeline: pipeline)
                    (start, ownNoise, constraint) = (inverted.start, inverted.noise, inverted.constraint)
                    if case .mask(let mask) = pass.constraint {
                        let keeping = inversion.keeping(outside: mask, clip: clip.latents, steps: start.timesteps.count,
                                                         pipeline: pipeline)
                        constraint = constraint.map { pin in { index, latents in try keeping(index, pin(index, latents)) } } ?? keeping
                    }
                case .clip, .previous:
                    let base = if case .clip = pass.start, let clip { clip.latents } else { previous }
                    let noised = try NoisedStart(base: base, request: request, strength: pass.strength,
                                                 pureNoiseAtFullStrength: pass.constraint != .none, pipeline: pipeline,
                                                 noise: &noise)
                    start = noised.start.repeated(prompts.count)
                    if case .mask(let mask) = pass.constraint { constraint = noised.keepingBase(outside: mask, pipeline: pipeline) }
                }
                let conditioning = try pipeline.conditioning(prompts, request: request)
                let steps = Self.controllerSteps(pass, timesteps: start.timesteps)
                let windows = LatentWindows(spanWidth: start.latents.shape[3], windowWidth: pipeline.canvasLatentWidth)
                let edit = windows.isWindowed ? nil : try Self.attentionEdit(of: pass, steps: steps, pipeline: pipeline)
                let windowEdits = windows.isWindowed
                    ? try windows.offsets.compactMap { _ in try Self.attentionEdit(of: pass, steps: steps, pipeline: pipeline) } : []
                if let blend = pass.attention?.blend {
                    let blending = edit.map { blend.constraint(reading: $0) } ?? blend.constraint(reading: windowEdits, windows: windows)
                    constraint = constraint.map { masking in { index, latents in try blending(index, masking(index, latents)) } }
                        ?? blending
                }
                var run = try DenoiseRun(pipeline: pipeline, start: start, conditioning: conditioning, constraint: constraint,
                                         controller: edit, windowControllers: windowEdits, noise: ownNoise ?? noise,
                                         join: request.windowJoin, speed: request.speed)
                latents = try run.finish { report($0, after: stepsDone) }
                if ownNoise == nil { noise = run.noise }
                initial = initial ?? start.latents
                dropped = max(dropped, conditioning.droppedTokenCount)
                if let edit { store = edit.attentionStore }
                if !windowEdits.isEmpty { store = AttentionStore(joining: windowEdits.map(\.attentionStore), windows: windows) }
            }
        }
        return try finish(latents, clip: clip, canvasFrames: canvasFrames, pipeline: pipeline,
                          renderSource: renderSource && passes.last?.attention != nil,
                          initial: initial ?? latents, dropped: dropped, store: store) { rendering in
            progress(EditProgress(pass: passes.count, passCount: passes.count, step: lastStep, stepsDone: totalSteps,
                                  totalSteps: totalSteps, rendering: rendering))
        }
    }

    /// The finishing step: renders the last row of `latents` (and the first, for the source),
    /// trims to the clip or splices into it.
    private func finish(_ latents: Tensor, clip: ClipLatents?, canvasFrames: Int, pipeline: AuffusionPipeline,
                        renderSource: Bool, initial: Tensor, dropped: Int, store: AttentionStore?,
                        progress: (RenderProgress) -> Bool) throws -> EditResult {
        let duration = clip == nil ? pipeline.canvas(of: passes[0].request).duration
            : Double(canvasFrames) / pipeline.melParameters.framesPerSecond
        let rows = latents.shape[0]
        func rendered(_ row: Int) throws -> (result: GenerationResult, fills: [Fill], reports: [FillReport]) {
            var result = try pipeline.render(latents.sliced(axis: 0, row..<(row + 1)), duration: duration,
                                            products: passes[passes.count - 1].request.speed.products, progress: progress)
            result.initialLatents = initial.sliced(axis: 0, min(row, initial.shape[0] - 1)..<min(row + 1, initial.shape[0]))
            result.droppedTokenCount = dropped
            guard let clip else { return (result, [], []) }
            guard !raw else {
                result.audio = result.audio.prefix(frameCount: clip.audio.frameCount)
                return (result, [], [])
            }
            let fills = fills(of: result.audio, clip: clip)
            let placed = try fills.compactMap { try placement.segment(for: $0, in: clip.audio) }
            result.audio = clip.audio.splicing(placed.map(\.0))
            return (result, fills, placed.map(\.1))
        }
        let output = try rendered(rows - 1)
        let source = renderSource && rows > 1 ? try rendered(0) : nil
        return EditResult(output: output.result, source: source?.result, attentionStore: store, fills: output.fills,
                          sourceFills: source?.fills ?? [], fillReports: output.reports)
    }

    /// How the finishing step places fills: ``crossfadeSeconds``, ``contextSeconds``.
    var placement: FillPlacement {
        var placement = FillPlacement(crossfadeSeconds: crossfadeSeconds)
        placement.contextSeconds = contextSeconds
        return placement
    }

    /// What the finishing step splices into the clip: each merged masked range with the masks'
    /// band (`nil` unless every mask has one: then the span of their bands) at ``fillLevel``; for a
    /// plan with an unmasked pass, the whole clip at the raw level.
    private func fills(of generated: AudioBuffer, clip: ClipLatents) -> [Fill] {
        let masks = passes.compactMap { pass in if case .mask(let mask) = pass.constraint { mask } else { nil } }
        let peak = clip.audio.peak
        let gain = peak > 0 ? peak / 0.95 : 1
        guard masks.count == passes.count else {
            return [Fill(range: 0..<clip.duration, band: nil, audio: generated, start: 0, analysisGain: gain, level: .raw)]
        }
        let bands = masks.compactMap(\.band)
        let band = bands.count == masks.count ? bands.map(\.lowerBound).min()!..<bands.map(\.upperBound).max()! : nil
        return Self.union(masks.flatMap(\.ranges)).map { range in
            Fill(range: range, band: band, audio: generated, start: 0, analysisGain: gain, level: fillLevel)
        }
    }

    /// The plan's canvas: the clip's, or the first pass's request's.
    private func canvasFrames(clip: ClipLatents?, pipeline: AuffusionPipeline, first: EditPass) -> Int {
        clip?.canvasFrames ?? pipeline.canvas(of: first.request).frames
    }

    /// `pass`'s request on the plan's whole canvas (the finishing step trims the audio).
    private static func request(of pass: EditPass, canvasFrames: Int, pipeline: AuffusionPipeline) -> GenerationRequest {
        var request = pass.request
        request.canvasFrames = canvasFrames
        request.duration = Double(canvasFrames) / pipeline.melParameters.framesPerSecond
        if case .inversion = pass.start, let attention = pass.attention, attention.sourceAsNegative, request.negativePrompt == nil,
           attention.sourcePrompt != request.prompt {
            request.negativePrompt = attention.sourcePrompt
        }
        return request
    }

    /// The steps a pass's prompt-to-prompt controller counts: a run from noise counts the
    /// request's N, as the reference's `Prompt2PromptPipeline` does; a run from a clip counts the
    /// steps its strength keeps; a run from an inversion the steps it runs, as PnP Inversion's
    /// editor does.
    private static func controllerSteps(_ pass: EditPass, timesteps: [Float]) -> Int {
        switch pass.start {
        case .noise: pass.request.stepCount
        case .inversion: timesteps.count
        case .clip, .previous: max(timesteps.count - 1, 1)
        }
    }

    /// The controller of a pass that edits attention; `nil` otherwise.
    private static func attentionEdit(of pass: EditPass, steps: Int, pipeline: AuffusionPipeline) throws -> AttentionEdit? {
        try pass.attention?.edit.makeController(prompts: pass.prompts, tokenizer: pipeline.tokenizer, steps: steps,
                                                layersPerEvaluation: pipeline.unetConfiguration.attentionLayerCount)
    }

    /// Refuses a local blend's map level unless the U-Net has cross-attention maps outside its mid
    /// block at that size on a canvas of `canvasFrames` frames: the plan's, or one canvas of the
    /// model for a plan wider than that (how a level is named, ``AttentionStore/storedResolution(atLevelOf:)``).
    /// - Throws: ``AttentionMapError/noMaps(_:available:)``.
    private static func checkBlend(_ resolution: AttentionResolution, canvasFrames: Int, pipeline: AuffusionPipeline) throws {
        let latent = pipeline.latentShape(canvasFrames: canvasFrames)
        let available = pipeline.unetConfiguration.crossAttentionLevels
            .map { AttentionResolution(height: latent[2] >> $0, width: latent[3] >> $0) }
            .filter { $0.height * $0.width <= AttentionStore.storedQueryLimit }
        guard available.contains(resolution) else { throw AttentionMapError.noMaps(resolution, available: available) }
    }

    /// Runs `body`, naming pass `index` (from 0) in any error but the plan's own.
    private static func naming<T>(pass index: Int, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as EditPlanError {
            throw error
        } catch PipelineError.cancelled {
            throw PipelineError.cancelled
        } catch {
            throw EditPlanError.passFailed(index + 1, cause: EditPlanError.Cause(error))
        }
    }

    /// Ranges merged where they overlap or (`joiningTouching`) touch, in order.
    static func union<Bound: Comparable>(_ ranges: [Range<Bound>], joiningTouching: Bool = true) -> [Range<Bound>] {
        ranges.sorted { $0.lowerBound < $1.lowerBound }.reduce(into: []) { merged, range in
            if let last = merged.last, range.lowerBound < last.upperBound || (joiningTouching && range.lowerBound == last.upperBound) {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
    }
}
