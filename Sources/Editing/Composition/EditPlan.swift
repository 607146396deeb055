import Compute
import Pipeline

/// Passes chained on the latents: each pass starts from noise, the clip or the previous pass's
/// latents, and only the last pass's latents are decoded and vocoded (no vocoder round trip in
/// between, `docs/design.md`). A plan of one pass gives exactly what the single edit gives
/// (``StyleTransfer``; ``Inpainting`` with `raw`; `.noise` without attention: ``AuffusionPipeline/generate(_:noise:progress:)``).
///
/// Every pass draws one Gaussian tensor `[1, 4, h, w]` from the noise source (the start's), then
/// what its scheduler draws; a pass with attention starts every prompt from the same latents.
///
/// When a plan edits a clip and every pass is masked, the output keeps the clip outside the
/// union of the masks' time ranges sample for sample and crossfades into the generated audio, as
/// ``Inpainting`` does; ``raw`` returns the decoded canvas instead. A plan with any unmasked pass
/// changes the whole clip and returns the decoded canvas.
///
/// ```swift
/// var restyle = EditPass(start: .clip(strength: 0.6), request: GenerationRequest(prompt: "a cat meowing"))
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

    public init(_ passes: [EditPass]) { self.passes = passes }

    /// Runs the passes in order and renders the last one's latents.
    ///
    /// - Parameters:
    ///   - clip: the input clip, needed by `.clip` starts; its canvas is the plan's and the audio
    ///     is trimmed to it. Without a clip, the first pass's request gives canvas and duration.
    ///   - progress: the pass (from 1) and its progress; return `false` to cancel.
    /// - Returns: the rendered result; ``GenerationResult/initialLatents`` is the first pass's start.
    /// - Throws: ``EditPlanError`` naming the pass; errors of a running pass are wrapped in
    ///   ``EditPlanError/passFailed(_:reason:)``; ``EditingError/invalidCrossfade(_:)``.
    public func run(clip: ClipLatents?, pipeline: AuffusionPipeline, noise: inout NoiseSource,
                    progress: (_ pass: Int, Progress) -> Bool = { _, _ in true }) throws -> GenerationResult {
        guard let first = passes.first else { throw EditPlanError.empty }
        guard crossfadeSeconds >= 0, crossfadeSeconds.isFinite else { throw EditingError.invalidCrossfade(crossfadeSeconds * 1000) }
        for (index, pass) in passes.enumerated() { try pass.validate(index: index, hasClip: clip != nil) }
        let canvasFrames = clip?.canvasFrames ?? pipeline.canvas(of: first.request).frames
        var latents = Tensor.zeros(pipeline.latentShape(canvasFrames: canvasFrames))
        var initial: Tensor?
        var dropped = 0
        for (index, pass) in passes.enumerated() {
            do {
                let base = switch pass.start {
                case .noise: Tensor.zeros(latents.shape)
                case .clip: clip?.latents ?? latents
                case .previous: latents
                }
                let start = try ClipEdit(base: base, canvasFrames: canvasFrames, request: pass.request, strength: pass.strength,
                                         pureNoiseAtFullStrength: pass.start == .noise || pass.constraint != .none,
                                         pipeline: pipeline, noise: &noise)
                let constraint = if case .mask(let mask) = pass.constraint {
                    start.keepingBase(outside: mask, pipeline: pipeline)
                } else { Optional<DenoiseLoop.Constraint>.none }
                let report = { (step: Progress) in progress(index + 1, step) }
                if let attention = pass.attention {
                    let prompts = [attention.sourcePrompt, pass.request.prompt]
                    let controller = try attention.edit.makeController(
                        prompts: prompts, tokenizer: pipeline.text.tokenizer, steps: start.controllerSteps,
                        layersPerEvaluation: pipeline.unet.attentionLayerCount)
                    let all = try start.denoise(prompts: prompts, controller: controller, pipeline: pipeline, noise: &noise,
                                                constraint: constraint, progress: report)        // [2, 4, h, w]
                    latents = all.sliced(axis: 0, 1..<2)
                } else {
                    let run = try start.denoise(pipeline: pipeline, noise: &noise, constraint: constraint, progress: report)
                    latents = run.latents
                    dropped = max(dropped, run.droppedTokenCount)
                }
                initial = initial ?? start.start
            } catch let error as EditPlanError {
                throw error
            } catch {
                throw EditPlanError.passFailed(index + 1, reason: "\(error)")
            }
        }
        let duration = clip == nil ? pipeline.canvas(of: first.request).duration : Double(canvasFrames) / pipeline.melParameters.framesPerSecond
        var result = try pipeline.render(latents, duration: duration)
        result.initialLatents = initial ?? latents
        result.droppedTokenCount = dropped
        guard let clip else { return result }
        let masks = passes.compactMap { pass in if case .mask(let mask) = pass.constraint { mask } else { nil } }
        if raw || masks.count < passes.count {
            result.audio = result.audio.prefix(frameCount: clip.audio.frameCount)
        } else {
            let ranges = Self.union(masks.flatMap { $0.samples(sampleRate: clip.audio.sampleRate) })
            result.audio = Inpainting.splice(result.audio, into: clip, ranges: ranges, crossfadeSeconds: crossfadeSeconds)
        }
        return result
    }

    /// Sample ranges merged where they overlap or touch, in order.
    static func union(_ ranges: [Range<Int>]) -> [Range<Int>] {
        ranges.sorted { $0.lowerBound < $1.lowerBound }.reduce(into: []) { merged, range in
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
    }
}
