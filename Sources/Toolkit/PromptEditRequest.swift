import Editing
import Models
import Pipeline

/// A prompt-to-prompt edit as a front end asks for it (`swap`, `refine` and `reweight` on the
/// command line, a server's request): the source prompt, how the edited prompt relates to it,
/// words to reweight, when attention is replaced, an optional local blend, and how an edit of a
/// clip starts. ``pass(request:onClip:tokenizer:)`` builds the one ``EditPass`` and the record's details.
public struct PromptEditRequest: Sendable {
    /// What the clip or the first prompt sounds like; the edited prompt is the request's.
    public var source: String
    public var alignment: PromptEdit.Alignment
    public var weights: [WordWeight] = []
    /// When attention is replaced (``ReplaceSchedule/init(crossEnd:words:selfEnd:)``): the end of
    /// cross-attention's, words' own bounds, the end of self-attention's. `nil` ends take the
    /// defaults of the pass's start (``ReplaceSchedule/defaults(fromInversion:)``).
    public var crossReplace: Double?, crossReplaceWords: [WordReplaceBounds] = [], selfReplace: Double?
    /// Local blend: change the sound only where these words (of either prompt) attend.
    public var blend: [String] = []
    /// The local blend's map level; `nil`: a quarter of the latents'.
    public var blendResolution: AttentionResolution?
    /// From noise: one initial noise for both prompts (`nil`: the default) or one each.
    public var sharedNoise: Bool?
    /// From an inversion: the source as the negative prompt when the request gives none (`nil`:
    /// the default, yes; ``EditPass/Attention/sourceAsNegative``).
    public var sourceNegative: Bool?
    /// How an edit of a clip starts; its fallback is a DDIM inversion, and what it inverts the
    /// clip with is ``source``.
    public var clipStart = ClipStart()

    public init(source: String, alignment: PromptEdit.Alignment) {
        self.source = source
        self.alignment = alignment
    }

    /// The pass from ``source`` to `request.prompt`, on the clip (`onClip`) or from noise, and the
    /// record's details: `shared_noise`, `weights` and, on a clip, `start` (``ClipStart``).
    /// - Throws: ``PromptEditError`` (a blend word in neither prompt), ``ClipStart/Failure``,
    ///   ``ReplaceScheduleError``.
    public func pass(request: GenerationRequest, onClip: Bool, tokenizer: CLIPTokenizer) throws -> (pass: EditPass, details: [String: JSONValue]) {
        var request = request
        let localBlend = blend.isEmpty ? nil
            : try LocalBlend(words: blend, prompts: [source, request.prompt].map { PromptTokens($0, tokenizer: tokenizer) },
                             resolution: blendResolution)
        var start = EditPass.Start.noise, startRecord: JSONValue?
        if onClip {
            var clipStart = clipStart
            clipStart.sourcePrompt = source
            (start, startRecord) = try clipStart.start(fallback: .ddim, request: &request)
        }
        let fromInversion = if case .inversion = start { true } else { false }
        let defaults = ReplaceSchedule.defaults(fromInversion: fromInversion)
        let schedule = try ReplaceSchedule(crossEnd: crossReplace ?? defaults.cross, words: crossReplaceWords,
                                           selfEnd: selfReplace ?? defaults.selfReplace)
        let edit = PromptEdit(alignment: alignment, weights: weights.map { ($0.word, $0.factor) }, schedule: schedule)
        var attention = EditPass.Attention(sourcePrompt: source, edit: edit, blend: localBlend)
        attention.sourceAsNegative = sourceNegative ?? attention.sourceAsNegative
        var pass = EditPass.promptEdit(attention, request: request, start: start)
        pass.promptNoise = (sharedNoise ?? true) ? .shared : .perPrompt
        var details: [String: JSONValue] = ["shared_noise": .bool(onClip || (sharedNoise ?? true)),
                                            "weights": .object(Dictionary(weights.map { ($0.word, .number(Double($0.factor))) },
                                                                          uniquingKeysWith: { $1 }))]
        // The schedule and the blend the run used, so that its record remakes it.
        details["cross_replace"] = .number(schedule.crossDefault.upperBound)
        details["self_replace"] = .number(schedule.selfRange.upperBound)
        if !crossReplaceWords.isEmpty {
            details["cross_replace_words"] = .object(Dictionary(crossReplaceWords.map { ($0.word, .array([.number($0.start), .number($0.end)])) },
                                                                uniquingKeysWith: { $1 }))
        }
        if !blend.isEmpty { details["blend"] = .array(blend.map(JSONValue.string)) }
        details["start"] = startRecord
        return (pass, details)
    }
}
