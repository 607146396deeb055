import AudioDSP
import Pipeline

/// A clip of any length to edit: its samples mixed to mono at the model's sample rate. The plan
/// encodes only the parts it edits (``EditSpans``), so a long recording costs what its edits
/// touch, not its length.
public struct EditClip: Sendable {
    /// The clip, mono, at the model's sample rate.
    public let audio: AudioBuffer
    /// The whole clip's latents (the posterior mean) when a caller already has them from
    /// ``latents(pipeline:posteriorNoise:progress:)`` with the pipeline the plan runs on (a
    /// saved inversion checked against them): a plan that changes the whole clip then uses them
    /// instead of encoding it again, minutes of a long clip on a full-size model.
    public var encoded: ClipLatents?

    /// Prepares `clip` (any sample rate and channel count) for `pipeline`.
    /// - Throws: ``EditingError/emptyClip``; resampling errors.
    public init(_ clip: AudioBuffer, pipeline: AuffusionPipeline) throws {
        guard clip.frameCount > 0 else { throw EditingError.emptyClip }
        audio = try Resampler.resample(clip.mixedToMono(), to: Double(pipeline.melParameters.sampleRate))
    }

    /// The clip's length in seconds.
    public var duration: Double { audio.duration }

    /// The whole clip's latents as a plan that changes the whole clip encodes them (the one span
    /// of ``EditSpans``): what an inversion of the clip must be made from to serve such plans.
    /// - Parameters:
    ///   - posteriorNoise: a sample of the VAE posterior is drawn from it; `nil`: its mean.
    ///   - progress: each window encoded; `false` cancels (``PipelineError/cancelled``).
    public func latents(pipeline: AuffusionPipeline, posteriorNoise: inout NoiseSource?,
                        progress: (RenderProgress) -> Bool = { _ in true }) throws -> ClipLatents {
        let frames = spectrogramFrames(pipeline: pipeline)
        return try latents(of: EditSpans.Span(frames: 0..<frames, pipeline: pipeline), whole: true, pipeline: pipeline,
                           posteriorNoise: &posteriorNoise, progress: progress)
    }

    /// The clip's length in spectrogram frames at the model's frame rate.
    func spectrogramFrames(pipeline: AuffusionPipeline) -> Int {
        let hop = pipeline.melParameters.hopLength
        return (audio.frameCount + hop - 1) / hop
    }

    /// The latents of `span` of the clip on its canvas; a `whole` clip no longer than the model's
    /// canvas is encoded as a short clip is (``ClipLatents``'s own canvas).
    func latents(of span: EditSpans.Span, whole: Bool, pipeline: AuffusionPipeline, posteriorNoise: inout NoiseSource?,
                 progress: (RenderProgress) -> Bool) throws -> ClipLatents {
        let hop = pipeline.melParameters.hopLength
        let samples = min(span.frames.lowerBound * hop, audio.frameCount)..<min(span.frames.upperBound * hop, audio.frameCount)
        let short = whole && span.frames.count <= pipeline.canvasFrames
        // Latents given for another canvas or model (their shape says so) are not used: encoded afresh.
        let canvas = short ? pipeline.canvasFrames : span.canvasFrames
        if whole, posteriorNoise == nil, let encoded, encoded.canvasFrames == canvas,
           encoded.latents.shape == pipeline.latentShape(canvasFrames: canvas) {
            return encoded
        }
        return try ClipLatents(encoding: AudioBuffer(mono: Array(audio.channels[0][samples]), sampleRate: audio.sampleRate),
                               pipeline: pipeline, canvasFrames: short ? nil : span.canvasFrames, posteriorNoise: &posteriorNoise,
                               progress: progress)
    }
}

/// Where a plan runs on a clip longer than the model's canvas, and why: the window planner.
///
/// - A plan whose passes are all masked (a fill) runs only around its masks. Mask ranges closer
///   than two context margins (an eighth of a canvas each) form one group; a group that fits in a
///   canvas with its margins gets one canvas centred on it (moved inside the clip at its ends),
///   so that the model hears the sound around the fill; a longer group gets its margins and is
///   covered by overlapping windows denoised jointly. Spans that overlap merge. A 3-minute
///   recording with one 2 s mask costs one canvas.
/// - Any other plan (a restyle, a prompt edit of the whole clip, `raw`) changes the whole clip:
///   one span, the whole clip, in overlapping windows denoised jointly (``LatentWindows``). So
///   does a plan with an inversion start, masked or not: the clip is inverted whole, as
///   ``EditClip/latents(pipeline:posteriorNoise:)`` encodes it, so that a saved inversion of the
///   clip fits any plan on it.
///
/// A clip no longer than the canvas is one span on one canvas, as before windows existed.
public struct EditSpans: Sendable, Equatable {
    /// One part of the clip the plan denoises.
    public struct Span: Sendable, Equatable {
        /// Spectrogram frames of the clip (at the model's frame rate).
        public var frames: Range<Int>
        /// The canvas width the span is encoded on: its frames rounded up to the VAE's grid, at
        /// least the model's canvas.
        public var canvasFrames: Int
        /// The windows of the canvas the span is denoised in.
        public var windows: LatentWindows

        /// The span of `frames` on `pipeline`'s canvas and windows.
        init(frames: Range<Int>, pipeline: AuffusionPipeline) {
            let canvas = pipeline.canvasFrames, factor = pipeline.downsamplingFactor
            self.frames = frames
            canvasFrames = max(canvas, (frames.count + factor - 1) / factor * factor)
            windows = LatentWindows(spanWidth: canvasFrames / factor, windowWidth: canvas / factor)
        }
    }

    public let spans: [Span]

    /// The spans of `plan` on a clip of `clipFrames` spectrogram frames.
    public init(plan: EditPlan, clipFrames: Int, pipeline: AuffusionPipeline) {
        let canvas = pipeline.canvasFrames, factor = pipeline.downsamplingFactor
        let span = { Span(frames: $0, pipeline: pipeline) }
        let masks = plan.passes.compactMap { pass in if case .mask(let mask) = pass.constraint { mask } else { nil } }
        let inverts = plan.passes.contains { if case .inversion = $0.start { true } else { false } }
        guard clipFrames > canvas, !plan.raw, masks.count == plan.passes.count, !inverts else {
            spans = [span(0..<clipFrames)]
            return
        }
        let fps = pipeline.melParameters.framesPerSecond
        let ranges = EditPlan.union(masks.flatMap { $0.frames(framesPerSecond: fps, frameCount: clipFrames) })
        let margin = canvas / 8
        var groups: [Range<Int>] = []
        for range in ranges {
            if let last = groups.last, range.lowerBound - last.upperBound < 2 * margin {
                groups[groups.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                groups.append(range)
            }
        }
        let placed = groups.map { group -> Range<Int> in
            let wanted = max(canvas, group.count + 2 * margin)
            let centred = group.lowerBound - (wanted - group.count) / 2
            // On the VAE's grid, rounded up: the margin before the group gives up a few frames,
            // and a span that reaches the clip's end keeps its last frames (rounded down, its
            // canvas would stop short of the end and a mask there would be cut).
            let start = (max(0, min(centred, clipFrames - wanted)) + factor - 1) / factor * factor
            return start..<min(clipFrames, start + wanted)
        }
        // Spans that only touch stay apart: each is one canvas, where joined they would be windows.
        spans = EditPlan.union(placed, joiningTouching: false).map(span)
    }

    /// Windows the U-Net runs per step, over all spans.
    public var windowCount: Int { spans.reduce(0) { $0 + $1.windows.offsets.count } }
}

/// What a plan did on a clip of any length: the result, and where it ran.
public struct LongEditResult {
    /// The edit: the whole clip at the model's rate, changed inside the spans only.
    public var edit: EditResult
    /// Where the plan ran.
    public var spans: EditSpans
}

extension EditPlan {
    /// Runs the plan on `clip`, of any length: on each span of ``EditSpans`` in turn (a clip no
    /// longer than the canvas: one span, exactly ``run(clip:pipeline:noise:renderSource:progress:)``),
    /// each span's result spliced into the clip. Memory holds one span's latents and one window's
    /// activations at a time; time grows with the windows denoised.
    ///
    /// - Parameters:
    ///   - samplePosterior: encode each span with a sample of the VAE posterior drawn from
    ///     `posteriorNoise`, or from `noise` when that is `nil`; otherwise its mean.
    ///   - progress: ``EditProgress`` over every span's steps, and each span's encoding and
    ///     rendering (``EditProgress/rendering``); return `false` to cancel.
    /// - Throws: as ``run(clip:pipeline:noise:renderSource:progress:)``; every span's plan is
    ///   checked before the first runs.
    public func run(on clip: EditClip, pipeline: AuffusionPipeline, noise: inout NoiseSource, samplePosterior: Bool = false,
                    posteriorNoise: NoiseSource? = nil, renderSource: Bool = false,
                    progress: (EditProgress) -> Bool = { _ in true }) throws -> LongEditResult {
        try checkPassesAndFinishing()   // before the spans, which an empty plan has none of
        let fps = pipeline.melParameters.framesPerSecond
        try checkMasks(within: clip.duration, pipeline: pipeline)   // a mask made for another clip
        let clipFrames = clip.spectrogramFrames(pipeline: pipeline)
        let spans = EditSpans(plan: self, clipFrames: clipFrames, pipeline: pipeline)
        let whole = spans.spans.count == 1 && spans.spans[0].frames == 0..<clipFrames
        let plans = try spans.spans.map { span in
            whole ? self : try restricted(to: Double(span.frames.lowerBound) / fps..<Double(span.frames.upperBound) / fps,
                                          clipDuration: clip.duration, pipeline: pipeline)
        }
        var separatePosterior = posteriorNoise
        var pieces: [(span: EditSpans.Span, result: EditResult)] = []
        var stepCounts: [Int] = []
        for (span, plan) in zip(spans.spans, plans) {
            var posterior: NoiseSource? = samplePosterior ? (separatePosterior ?? noise) : nil
            let (done, known) = (stepCounts.prefix(pieces.count).reduce(0, +), stepCounts.reduce(0, +))
            let latents = try clip.latents(of: span, whole: whole, pipeline: pipeline, posteriorNoise: &posterior) { encoding in
                progress(EditProgress(pass: 1, passCount: passes.count, step: DenoiseProgress(step: 0, total: 0, timestep: 0),
                                      stepsDone: done, totalSteps: known, rendering: encoding))
            }
            if let posterior { if separatePosterior == nil { noise = posterior } else { separatePosterior = posterior } }
            if stepCounts.isEmpty {
                stepCounts = try plans.map { try $0.validate(clip: latents, pipeline: pipeline).reduce(0, +) }
            }
            let (before, total) = (stepCounts[..<pieces.count].reduce(0, +), stepCounts.reduce(0, +))
            let result = try plan.run(clip: latents, pipeline: pipeline, noise: &noise, renderSource: renderSource) { step in
                var overall = step
                (overall.stepsDone, overall.totalSteps) = (step.stepsDone + before, total)
                return progress(overall)
            }
            pieces.append((span, result))
        }
        guard !whole, var edit = pieces.last?.result else { return LongEditResult(edit: pieces[0].result, spans: spans) }
        // Each span's fills, moved from the span's seconds to the clip's, go into the whole clip
        // (whose context reaches past the span), as they go into the user's file (EditedFile).
        func fills(_ of: (EditResult) -> [Fill]) -> [Fill] {
            pieces.flatMap { piece in of(piece.result).map { $0.shifted(by: Double(piece.span.frames.lowerBound) / fps) } }
        }
        edit.fills = fills(\.fills)
        (edit.output, edit.fillReports) = try spliced(edit.fills, into: clip, pipeline: pipeline, like: edit.output)
        if let source = edit.source {
            edit.sourceFills = fills(\.sourceFills)
            edit.source = try spliced(edit.sourceFills, into: clip, pipeline: pipeline, like: source).0
        }
        return LongEditResult(edit: edit, spans: spans)
    }

    /// The plan as it runs on the part `seconds` of a clip of `clipDuration` seconds: masks cut
    /// to the part and moved to its start; a pass whose masks all lie elsewhere is left out (it
    /// keeps this part as it is), and a pass that would start from such a pass starts from the clip.
    private func restricted(to seconds: Range<Double>, clipDuration: Double, pipeline: AuffusionPipeline) throws -> EditPlan {
        var kept: [EditPass] = []
        for pass in passes {
            var pass = pass
            if case .mask(let mask) = pass.constraint {
                let inside = mask.ranges.compactMap { range -> Range<Double>? in
                    let lower = max(range.lowerBound, seconds.lowerBound), upper = min(range.upperBound, seconds.upperBound)
                    return lower < upper ? (lower - seconds.lowerBound)..<(upper - seconds.lowerBound) : nil
                }
                guard !inside.isEmpty else { continue }
                pass.constraint = .mask(try EditMask(ranges: inside, band: mask.band, clipDuration: seconds.upperBound - seconds.lowerBound,
                                                     maximumFrequency: pipeline.melParameters.maximumFrequency))
            }
            if kept.isEmpty, case .previous(let strength) = pass.start { pass.start = .clip(strength: strength) }
            kept.append(pass)
        }
        var plan = self
        plan.passes = kept
        return plan
    }

    /// The clip with `fills` in place (``FillPlacement``), analysed again for its picture;
    /// latents and the rest as `like` (the last span's).
    private func spliced(_ fills: [Fill], into clip: EditClip, pipeline: AuffusionPipeline,
                         like last: GenerationResult) throws -> (GenerationResult, [FillReport]) {
        let placed = try fills.compactMap { try placement.segment(for: $0, in: clip.audio) }
        var result = last
        result.audio = clip.audio.splicing(placed.map(\.0))
        result.logMel = try MelAnalyzer(pipeline.melParameters).logMel(of: result.audio.channels[0])
        result.image = SpectrogramImage(logMel: result.logMel)
        return (result, placed.map(\.1))
    }
}
