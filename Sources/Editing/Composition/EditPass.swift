import Foundation
import Pipeline

/// One run of the denoising loop, configured at its three points (docs/architecture.md): where it
/// starts, what it forces on the latents after each step, and who edits attention. Every edit
/// the toolkit offers is a pass, and an ``EditPlan`` runs one or more of them:
///
/// | edit | constructor | start | constraint | attention |
/// |---|---|---|---|---|
/// | generation | `EditPass(start: .noise, request:)` | `.noise` | `.none` | `nil` |
/// | style transfer | ``styleTransfer(strength:request:)`` | `.clip(strength:)` | `.none` | `nil` |
/// | inpainting | ``inpainting(mask:strength:request:)`` | `.clip(strength:)` | `.mask(_:)` | `nil` |
/// | word swap / refine / reweight | ``promptEdit(_:request:start:)`` | `.noise`, `.inversion` or `.clip(strength:)` | `.none` or `.mask` | ``Attention`` |
/// | text-based edit of a clip (ZETA) | `EditPass(start: .inversion(_:), request:)` | `.inversion` | `.none` or `.mask` | `nil` |
///
/// `.previous(strength:)` starts from the latents an earlier pass of an ``EditPlan`` produced, as
/// `.clip` starts from the clip's; a mask then keeps those latents outside it. `.inversion` starts
/// from the clip inverted into the model's noise (``Inversion``), so that the edit keeps what its
/// prompt does not change; a mask then keeps the inversion's trajectory outside it.
public struct EditPass: Sendable {
    public enum Start: Sendable, Equatable {
        /// Gaussian latents at the first timestep of the full schedule (text-to-audio).
        case noise
        /// The input clip's latents noised to t(strength), SDEdit (strength in [0, 1]).
        case clip(strength: Double)
        /// The previous pass's latents noised to t(strength).
        case previous(strength: Double)
        /// The input clip's latents inverted (``InversionStart``); the pass steps along the
        /// inversion's schedule, not its request's.
        case inversion(InversionStart)
    }

    public enum Constraint: Sendable, Equatable {
        case none
        /// Regenerate inside the mask, keep the start's clean latents (noised to the current t) outside.
        case mask(EditMask)
    }

    /// A prompt-to-prompt edit: the pass denoises `[sourcePrompt, request.prompt]` together and
    /// continues with the edited prompt's latents.
    public struct Attention: Sendable {
        public var sourcePrompt: String
        public var edit: PromptEdit
        /// Confines the edit to where chosen words attend (built for `[sourcePrompt, request.prompt]`).
        public var blend: LocalBlend?
        /// From an ``Start/inversion(_:)`` start, when the request names no negative prompt and the
        /// edited prompt differs from the source: the source prompt takes the empty prompt's place in
        /// classifier-free guidance, so that guidance pushes from what the clip is towards what it
        /// should become (as Negative-Prompt Inversion, Miyake et al. 2023, puts the source prompt
        /// there; docs/editing.md, "Inversion", measures it). `false` keeps the reference's guidance.
        public var sourceAsNegative = true

        public init(sourcePrompt: String, edit: PromptEdit, blend: LocalBlend? = nil) {
            self.sourcePrompt = sourcePrompt
            self.edit = edit
            self.blend = blend
        }
    }

    public var start: Start
    public var constraint: Constraint
    public var attention: Attention?
    /// With a `.noise` start and attention: whether the prompts share one initial noise (the
    /// default) or draw one each (Auffusion's `Prompt2PromptPipeline`).
    public var promptNoise = InitialNoise.shared
    /// The (edited) prompt, steps, guidance, negative prompt and sampler; the canvas comes from the plan.
    public var request: GenerationRequest

    public init(start: Start, constraint: Constraint = .none, attention: Attention? = nil, request: GenerationRequest) {
        self.start = start
        self.constraint = constraint
        self.attention = attention
        self.request = request
    }

    /// SDEdit style transfer of the input clip (``StyleTransfer``).
    public static func styleTransfer(strength: Double, request: GenerationRequest) -> EditPass {
        EditPass(start: .clip(strength: strength), request: request)
    }

    /// Inpainting of the input clip inside `mask` (``Inpainting``); strength 1 starts from pure noise.
    public static func inpainting(mask: EditMask, strength: Double = 1, request: GenerationRequest) -> EditPass {
        EditPass(start: .clip(strength: strength), constraint: .mask(mask), request: request)
    }

    /// A prompt-to-prompt edit from `source` to `request.prompt`, from noise or from the clip.
    public static func promptEdit(_ attention: Attention, request: GenerationRequest, start: Start = .noise) -> EditPass {
        EditPass(start: start, attention: attention, request: request)
    }

    /// The strength of a clip or previous start; 1 for noise and inversion (which have their own).
    var strength: Double {
        switch start {
        case .noise, .inversion: 1
        case .clip(let strength), .previous(let strength): strength
        }
    }

    /// The prompts the pass denoises together: the source first when it edits attention.
    var prompts: [String] { attention.map { [$0.sourcePrompt, request.prompt] } ?? [request.prompt] }

    /// Checks what can be checked without a model: the pass's `index` (from 0) in a plan, whether
    /// the plan has a clip.
    /// - Throws: ``EditPlanError/invalidPass(_:field:reason:)``.
    func validate(index: Int, hasClip: Bool) throws {
        func fail(_ field: String, _ reason: String) -> EditPlanError { .invalidPass(index + 1, field: field, reason: reason) }
        switch start {
        case .noise:
            if case .mask = constraint { throw fail("mask", "a mask keeps the start's latents; start from \"clip\" or \"previous\"") }
        case .clip:
            guard hasClip else { throw fail("start", "a clip start needs an input clip") }
        case .inversion(let inversion):
            guard hasClip else { throw fail("start", "an inversion start needs an input clip") }
            guard request.scheduler == nil else {
                throw fail("scheduler", "an inversion start steps with the inversion's DDIM schedule; leave the scheduler out")
            }
            if let strength = inversion.strength, !(strength > 0 && strength <= 1) {
                throw fail("start.strength", "must be in (0, 1], got \(strength)")
            }
        case .previous:
            guard index > 0 else { throw fail("start", "the first pass has no previous pass to start from") }
        }
        if promptNoise == .perPrompt, start != .noise || attention == nil {
            throw fail("start", "one noise per prompt needs a noise start and an attention edit")
        }
        guard (0...1).contains(strength) else { throw fail("start.strength", "must be in [0, 1], got \(strength)") }
        guard request.stepCount >= 1 else { throw fail("steps", "must be at least 1, got \(request.stepCount)") }
        guard request.guidanceScale.isFinite, request.guidanceScale >= 0 else {
            throw fail("guidance", "must be a non-negative number, got \(request.guidanceScale)")
        }
        guard !request.prompt.trimmingCharacters(in: .whitespaces).isEmpty else { throw fail("prompt", "is empty") }
        if let attention, attention.sourcePrompt.trimmingCharacters(in: .whitespaces).isEmpty {
            throw fail("attention.source", "is empty")
        }
        if attention != nil, request.speed.cachesFeatures {
            throw fail("speed.cache_interval", "feature caching skips the deep attention layers an attention edit changes on most "
                + "steps; use cache_interval 1 with an attention edit")
        }
    }
}
