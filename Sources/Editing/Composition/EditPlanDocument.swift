import Compute
import Foundation
import Models
import Pipeline
import Schedulers

/// The JSON form of an ``EditPlan``, as `auffusion edit PLAN.json` reads it and a front end (the
/// browser editor's history) writes it. The schema is in docs/editing.md, "Composition"; keys are
/// snake_case, and a key the schema does not know is an error that lists the known ones (a typo
/// such as `"strenght"` must not be silently ignored).
public struct EditPlanDocument: Codable, Sendable, Equatable {
    /// The input clip, relative to the plan's folder; needed by `"clip"` starts.
    public var input: String?
    /// The output audio file, relative to the plan's folder.
    public var output: String?
    public var passes: [Pass]
    /// How a plan of masked passes joins its fills to the clip (``FinishingChoices``): the
    /// crossfade at each mask edge in milliseconds (default 20), whether to return the decoded
    /// result instead (default false), and the fills' level, `"context"` (default) or `"raw"`.
    public var crossfadeMs: Double?
    public var raw: Bool?
    public var fillLevel: String?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case input, output, passes, raw
        case crossfadeMs = "crossfade_ms"
        case fillLevel = "fill_level"
    }

    public struct Pass: Codable, Sendable, Equatable {
        public var prompt: String
        public var start: Start
        public var mask: Mask?
        public var attention: Attention?
        public var steps: Int?
        public var guidance: Float?
        public var negative: String?
        /// A scheduler name (``SchedulerKind/name``).
        public var scheduler: String?
        /// The approximations the pass may make (``SpeedOptions``); absent: none.
        public var speed: SpeedOptions?
    }

    public struct Start: Codable, Sendable, Equatable {
        /// `"noise"`, `"clip"`, `"previous"` or `"inversion"`.
        public var from: String
        /// For `"clip"` and `"previous"`: default 0.5. For `"inversion"`: the fraction of the
        /// inversion's schedule it covers and the edit runs (default: the method's).
        public var strength: Double?
        /// For `"inversion"`: `"ddim"` (default with an attention edit) or `"ddpm"` (default without).
        public var method: String?
        /// For `"inversion"`: what the clip sounds like (default: the attention's source, else empty).
        public var sourcePrompt: String?
        /// For `"inversion"`: the source prompt's guidance while inverting (default: the method's).
        public var sourceGuidance: Float?
        /// For `"inversion"`: a saved inversion of the input clip (`auffusion invert`), relative to
        /// the plan's folder, instead of inverting.
        public var file: String?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case from, strength, method, file
            case sourcePrompt = "source_prompt", sourceGuidance = "source_guidance"
        }
    }

    public struct Mask: Codable, Sendable, Equatable {
        /// `[[start, end], …]` in seconds.
        public var ranges: [[Double]]
        /// `[low, high]` in Hz.
        public var band: [Double]?
    }

    public struct Attention: Codable, Sendable, Equatable {
        public var source: String
        /// `"swap"`, `"refine"` or `"none"` (reweighting only).
        public var alignment: String
        /// Word → cross-attention factor.
        public var weights: [String: Float]?
        public var crossReplace: Double?
        /// Word → its own cross-replacement bounds: `END` or `[START, END]`.
        public var crossReplaceWords: [String: Bounds]?
        public var selfReplace: Double?
        /// Local blend: change the sound only where these words attend.
        public var blend: [String]?
        /// The local blend's map level, `HxW`.
        public var blendResolution: String?
        /// With a noise start: one initial noise for both prompts (default) or one each.
        public var sharedNoise: Bool?
        /// From an inversion start: the source prompt as the negative prompt when none is given
        /// (default true; ``EditPass/Attention/sourceAsNegative``).
        public var sourceNegative: Bool?

        enum CodingKeys: String, CodingKey, CaseIterable {
            case source, alignment, weights, blend
            case crossReplace = "cross_replace", crossReplaceWords = "cross_replace_words", selfReplace = "self_replace"
            case blendResolution = "blend_resolution", sharedNoise = "shared_noise", sourceNegative = "source_negative"
        }
    }

    /// A fraction `END` (from the start of the run) or `[START, END]`.
    public struct Bounds: Codable, Sendable, Equatable {
        public var start = 0.0, end: Double

        public init(start: Double = 0, end: Double) {
            self.start = start
            self.end = end
        }

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let end = try? container.decode(Double.self) {
                self.end = end
                return
            }
            guard let pair = try? container.decode([Double].self), pair.count == 2 else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "give END or [START, END]")
            }
            (start, end) = (pair[0], pair[1])
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            if start == 0 { try container.encode(end) } else { try container.encode([start, end]) }
        }
    }

    /// The largest plan file read (1 MiB: a plan of many passes is a few kilobytes, and a
    /// prompt at most 10 000 characters).
    public static let fileLimit = 1 << 20

    /// Reads the plan file `url`: only a regular file of at most ``fileLimit`` bytes, so a FIFO
    /// or a device is refused at once instead of blocking or never ending.
    /// - Throws: ``EditPlanError/invalidDocument(_:)``.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try InputFile.contents(of: url, limit: Self.fileLimit) } catch InputFile.Error.missing {
            throw EditPlanError.invalidDocument("no such file")
        } catch let error as InputFile.Error {
            throw EditPlanError.invalidDocument(error.reason)
        }
        try self.init(json: data)
    }

    /// Decodes a plan, turning JSON and type errors into messages that name the pass and field.
    ///
    /// The text is plain JSON as ``StrictJSON`` reads it: no JSON5, no key twice in one object
    /// (which copy would win is up to the reader), nesting bounded. `NaN` and `Infinity` are
    /// not numbers here: no field of a plan takes them.
    /// - Throws: ``EditPlanError/invalidDocument(_:)``.
    public init(json data: Data) throws {
        let text: Data, object: Any
        do {
            text = try StrictJSON.normalized(data, allowsNonFinite: false)
            object = try JSONSerialization.jsonObject(with: text, options: .fragmentsAllowed)
        } catch {
            throw EditPlanError.invalidDocument("\(error)")
        }
        try Self.checkKeys(object)
        do {
            self = try JSONDecoder().decode(EditPlanDocument.self, from: text)
        } catch let error as DecodingError {
            throw EditPlanError.invalidDocument(Self.describe(error))
        }
    }

    /// Every file the plan reads, its paths taken relative to `folder` (the plan's): its input clip
    /// and its saved inversions.
    public func inputs(relativeTo folder: URL) -> [URL] {
        ([input] + passes.map(\.start.file)).compactMap { $0 }.map { Self.resolve($0, in: folder) }
    }

    /// The input clip, its path taken relative to `folder` (the plan's).
    public func inputClip(relativeTo folder: URL) -> URL? { input.map { Self.resolve($0, in: folder) } }

    /// `path` read from `folder` (the current folder when `nil`): absolute as it is, else relative
    /// to it, whether or not `folder`'s URL ends in a slash (a URL without one is relative to its
    /// parent).
    static func resolve(_ path: String, in folder: URL?) -> URL {
        let base = folder.map { URL(fileURLWithPath: $0.path, isDirectory: true) }
        return URL(fileURLWithPath: URL(fileURLWithPath: path, relativeTo: base).standardizedFileURL.path)
    }

    /// The plan, with masks checked against `clipDuration` (seconds) and the pipeline's band,
    /// and blend words against the prompts; inversion files are relative to `folder` (the plan's).
    /// - Throws: ``EditPlanError`` naming the pass and field.
    public func plan(clipDuration: Double?, folder: URL? = nil, pipeline: AuffusionPipeline) throws -> EditPlan {
        try finishing().applied(to: EditPlan(try passes.enumerated().map { index, pass in
            try pass.editPass(number: index + 1, clipDuration: clipDuration, folder: folder, pipeline: pipeline)
        }))
    }

    /// The document's finishing keys.
    /// - Throws: ``EditPlanError/invalidDocument(_:)`` for a fill level not named in ``FillLevel``
    ///   or a crossfade that is not a non-negative number.
    public func finishing() throws -> FinishingChoices {
        let level = try fillLevel.map { name in
            guard let level = FillLevel(rawValue: name) else {
                throw EditPlanError.invalidDocument(
                    "fill_level: \"\(name)\" is not one of \(FillLevel.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return level
        }
        if let crossfadeMs, !(crossfadeMs >= 0) {
            throw EditPlanError.invalidDocument("crossfade_ms: must be a non-negative number of milliseconds, got \(crossfadeMs)")
        }
        return FinishingChoices(crossfadeSeconds: crossfadeMs.map { $0 / 1000 }, raw: raw, fillLevel: level)
    }

    /// Unknown keys anywhere in the document, reported with their place and the known keys.
    private static func checkKeys(_ object: Any) throws {
        func check(_ value: Any, known: [String], place: String) throws {
            guard let dictionary = value as? [String: Any] else { return }
            if let unknown = dictionary.keys.sorted().first(where: { !known.contains($0) }) {
                throw EditPlanError.invalidDocument(
                    "\(place): unknown key \"\(unknown)\"; known keys: \(known.sorted().joined(separator: ", "))")
            }
        }
        try check(object, known: CodingKeys.allCases.map(\.rawValue), place: "the plan")
        guard let passes = (object as? [String: Any])?["passes"] as? [Any] else { return }
        for (index, pass) in passes.enumerated() {
            let place = "pass \(index + 1)"
            try check(pass, known: ["prompt", "start", "mask", "attention", "steps", "guidance", "negative", "scheduler", "speed"],
                      place: place)
            guard let fields = pass as? [String: Any] else { continue }
            try check(fields["start"] as Any, known: Start.CodingKeys.allCases.map(\.rawValue), place: "\(place), start")
            try check(fields["mask"] as Any, known: ["ranges", "band"], place: "\(place), mask")
            try check(fields["speed"] as Any, known: SpeedOptions.keys, place: "\(place), speed")
            try check(fields["attention"] as Any, known: Attention.CodingKeys.allCases.map(\.rawValue), place: "\(place), attention")
            // Foundation's decoder reports a fraction given for an integer as invalid JSON, with
            // no field: name it here.
            let speed = fields["speed"] as? [String: Any]
            for (field, value) in [("steps", fields["steps"]), ("speed.cache_interval", speed?["cache_interval"]),
                                   ("speed.cache_branch", speed?["cache_branch"])] {
                guard let number = value as? NSNumber, let whole = Double(exactly: number.doubleValue) else { continue }
                guard whole.rounded() == whole else {
                    throw EditPlanError.invalidDocument("\(place), \(field): expected a whole number, got \(number)")
                }
                guard abs(whole) < 1e15 else { throw EditPlanError.invalidDocument("\(place), \(field): \(number) is out of range") }
            }
        }
    }

    /// `pass 2, start.strength: expected a number` from a decoding error's coding path.
    private static func describe(_ error: DecodingError) -> String {
        func place(_ path: [any CodingKey]) -> String {
            var keys = path.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }
            guard !keys.isEmpty else { return "the plan" }
            guard keys.first == "passes", keys.count >= 2, let index = path[1].intValue else { return keys.joined(separator: ".") }
            keys.removeFirst(2)
            return keys.isEmpty ? "pass \(index + 1)" : "pass \(index + 1), \(keys.joined(separator: "."))"
        }
        func kind(_ type: Any.Type) -> String {
            switch type {
            case is Double.Type, is Float.Type, is Int.Type: "a number"
            case is String.Type: "a string"
            case is Bool.Type: "true or false"
            default: "\(type)".hasPrefix("Array") ? "a list" : "an object"
            }
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(place(context.codingPath + [key])): missing"
        case .typeMismatch(let type, let context): return "\(place(context.codingPath)): expected \(kind(type))"
        case .valueNotFound(let type, let context): return "\(place(context.codingPath)): expected \(kind(type)), found null"
        case .dataCorrupted(let context): return "\(place(context.codingPath)): \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}

extension EditPlanDocument.Pass {
    func editPass(number: Int, clipDuration: Double?, folder: URL?, pipeline: AuffusionPipeline) throws -> EditPass {
        func fail(_ field: String, _ reason: String) -> EditPlanError { .invalidPass(number, field: field, reason: reason) }
        // Before anything tokenizes them (a local blend does, here; an inversion before the edit):
        // tokenizing is quadratic in a word's length.
        for (field, text) in [("prompt", prompt), ("negative", negative), ("attention.source", attention?.source),
                              ("start.source_prompt", start.sourcePrompt)] {
            guard let text else { continue }
            do { try CLIPTokenizer.validate(prompt: text) } catch { throw fail(field, "\(error)") }
        }
        var request = GenerationRequest(prompt: prompt)
        request.stepCount = steps ?? request.stepCount
        request.guidanceScale = guidance ?? request.guidanceScale
        request.negativePrompt = negative
        request.speed = speed ?? request.speed
        if let scheduler {
            guard let kind = SchedulerKind(name: scheduler) else {
                throw fail("scheduler", "\"\(scheduler)\" is not one of \(SchedulerKind.names)")
            }
            request.scheduler = kind
        }
        let begin: EditPass.Start
        switch start.from {
        case "noise": begin = .noise
        case "clip": begin = .clip(strength: start.strength ?? 0.5)
        case "previous": begin = .previous(strength: start.strength ?? 0.5)
        case "inversion": begin = .inversion(try start.inversion(source: attention?.source, folder: folder, steps: steps, fail: fail))
        default: throw fail("start.from", "\"\(start.from)\" is not one of noise, clip, previous, inversion")
        }
        if case .inversion(let inversion) = begin, let settings = try? inversion.declaredSettings() {
            // The pass runs the inversion's schedule and, unless it says otherwise, its method's edit
            // guidance, as the command line's starts do (a saved inversion that cannot be read is
            // reported when the pass runs), so that its request says what ran.
            if let steps, steps != settings.stepCount {
                throw fail("steps", "the saved inversion has a schedule of \(settings.stepCount) steps, not \(steps); leave \"steps\" out")
            }
            request.stepCount = settings.stepCount
            request.guidanceScale = guidance ?? settings.editGuidance
        }
        let inversionKeys = [("method", start.method != nil), ("source_prompt", start.sourcePrompt != nil),
                             ("source_guidance", start.sourceGuidance != nil), ("file", start.file != nil)]
        if start.from != "inversion", let key = inversionKeys.first(where: \.1)?.0 {
            throw fail("start.\(key)", "applies to an inversion start only")
        }
        var pass = EditPass(start: begin, request: request)
        if let mask {
            guard let clipDuration else { throw fail("mask", "a mask needs the plan's input clip (\"input\")") }
            guard mask.ranges.allSatisfy({ $0.count == 2 && $0[0] < $0[1] }) else { throw fail("mask.ranges", "give [start, end] pairs with start < end") }
            if let band = mask.band, band.count != 2 || band[0] >= band[1] { throw fail("mask.band", "give [low, high] with low < high") }
            do {
                pass.constraint = .mask(try EditMask(ranges: mask.ranges.map { $0[0]..<$0[1] }, band: mask.band.map { $0[0]..<$0[1] },
                                                     clipDuration: clipDuration,
                                                     maximumFrequency: pipeline.melParameters.maximumFrequency))
            } catch {
                throw fail("mask", "\(error)")
            }
        }
        if let attention {
            pass.attention = try attention.attention(target: prompt, fromInversion: start.from == "inversion",
                                                     tokenizer: pipeline.tokenizer, fail: fail)
            if attention.sharedNoise == false { pass.promptNoise = .perPrompt }
            if attention.sourceNegative != nil, start.from != "inversion" {
                throw fail("attention.source_negative", "applies to an inversion start only")
            }
        }
        return pass
    }
}

extension EditPlanDocument.Start {
    /// An inversion start: a saved file (its settings are its own), or settings from the
    /// method's defaults and these fields, with the pass's `steps` as the schedule's N.
    func inversion(source: String?, folder: URL?, steps: Int?,
                   fail: (String, String) -> EditPlanError) throws -> InversionStart {
        if let strength, !(strength > 0 && strength <= 1) { throw fail("start.strength", "must be in (0, 1], got \(strength)") }
        if let file {
            guard method == nil, sourcePrompt == nil, sourceGuidance == nil else {
                throw fail("start.file", "a saved inversion has its own method, source prompt and guidance; leave them out")
            }
            return InversionStart(.file(EditPlanDocument.resolve(file, in: folder)), strength: strength)
        }
        let kind: InversionSettings.Method
        switch method ?? (source == nil ? "ddpm" : "ddim") {
        case "ddim": kind = .ddim
        case "ddpm": kind = .ddpm
        case let other: throw fail("start.method", "\"\(other)\" is not one of ddim, ddpm")
        }
        return InversionStart(.invert(InversionSettings(method: kind, sourcePrompt: sourcePrompt ?? source ?? "", stepCount: steps,
                                                        strength: strength, guidance: sourceGuidance)))
    }
}

extension EditPlanDocument.Attention {
    /// The pass's attention edit; absent fractions take the defaults of its start (``ReplaceSchedule/defaults(fromInversion:)``).
    func attention(target: String, fromInversion: Bool, tokenizer: CLIPTokenizer,
                   fail: (String, String) -> EditPlanError) throws -> EditPass.Attention {
        let defaults = ReplaceSchedule.defaults(fromInversion: fromInversion)
        let kind: PromptEdit.Alignment
        switch alignment {
        case "swap": kind = .swap
        case "refine": kind = .refine
        case "none": kind = .none
        default: throw fail("attention.alignment", "\"\(alignment)\" is not one of swap, refine, none")
        }
        func bounds(_ start: Double, _ end: Double, field: String) throws -> ClosedRange<Double> {
            do {
                return try ReplaceSchedule.bounds(start, end)
            } catch {
                throw fail("attention.\(field)", "\(error)")
            }
        }
        let cross = try bounds(0, crossReplace ?? defaults.cross, field: "cross_replace")
        let selfRange = try bounds(0, selfReplace ?? defaults.selfReplace, field: "self_replace")
        var words: [String: ClosedRange<Double>] = [:]
        for (word, range) in crossReplaceWords ?? [:] {
            words[word] = try bounds(range.start, range.end, field: "cross_replace_words.\(word)")
        }
        let sorted = (weights ?? [:]).sorted { $0.key < $1.key }.map { (word: $0.key, factor: $0.value) }
        var blendMaps: AttentionResolution?
        if let blendResolution {
            guard let size = AttentionResolution(blendResolution) else {
                throw fail("attention.blend_resolution", "give HxW with positive integers, e.g. 8x32, got \"\(blendResolution)\"")
            }
            blendMaps = size
        }
        let localBlend: LocalBlend?
        do {
            localBlend = try blend.map { words in
                try LocalBlend(words: words, prompts: [source, target].map { PromptTokens($0, tokenizer: tokenizer) },
                               resolution: blendMaps)
            }
        } catch {
            throw fail("attention.blend", "\(error)")
        }
        var attention = EditPass.Attention(sourcePrompt: source,
                                           edit: PromptEdit(alignment: kind, weights: sorted,
                                                            schedule: ReplaceSchedule(cross: cross, crossWords: words, self: selfRange)),
                                           blend: localBlend)
        attention.sourceAsNegative = sourceNegative ?? attention.sourceAsNegative
        return attention
    }
}
