import Editing
import Foundation
import Pipeline

/// The JSON form of a composed plan, as `auffusion edit PLAN.json` reads it (schema in
/// docs/editing.md, "Composition"). Keys are snake_case; unknown keys are ignored.
struct EditPlanFile: Decodable {
    /// The input clip, relative to the plan's folder; needed by `"clip"` starts.
    var input: String?
    /// The output audio file, relative to the plan's folder (`-o` overrides it).
    var output: String?
    var passes: [PassFile]

    struct PassFile: Decodable {
        var prompt: String
        var start: StartFile
        var mask: MaskFile?
        var attention: AttentionFile?
        var steps: Int?
        var guidance: Float?
        var negative: String?
        var scheduler: String?
    }

    struct StartFile: Decodable {
        /// `"noise"`, `"clip"` or `"previous"`.
        var from: String
        var strength: Double?
    }

    struct MaskFile: Decodable {
        /// `[[start, end], …]` in seconds.
        var ranges: [[Double]]
        /// `[low, high]` in Hz.
        var band: [Double]?
    }

    struct AttentionFile: Decodable {
        var source: String
        /// `"swap"`, `"refine"` or `"none"` (reweighting only).
        var alignment: String
        /// Word → cross-attention factor.
        var weights: [String: Float]?
        var crossReplace: Double?
        /// Word → its own cross-replacement bounds: `END` or `[START, END]`.
        var crossReplaceWords: [String: BoundsFile]?
        var selfReplace: Double?

        enum CodingKeys: String, CodingKey {
            case source, alignment, weights
            case crossReplace = "cross_replace", crossReplaceWords = "cross_replace_words", selfReplace = "self_replace"
        }
    }

    /// A fraction `END` (from the start of the run) or `[START, END]`.
    struct BoundsFile: Decodable {
        var start = 0.0, end: Double

        init(from decoder: any Decoder) throws {
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
    }

    /// Reads `url`, turning JSON and type errors into messages that name the pass and field.
    static func read(_ url: URL) throws -> EditPlanFile {
        let data = try Data(contentsOf: url)
        do {
            return try JSONDecoder().decode(EditPlanFile.self, from: data)
        } catch let error as DecodingError {
            throw CLIError("\(url.path): \(describe(error))")
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

    /// The library plan; masks are checked against `clip` (seconds) and the model's band.
    func plan(clip: ClipLatents?, maximumFrequency: Double) throws -> EditPlan {
        EditPlan(try passes.enumerated().map { index, pass in
            try pass.editPass(number: index + 1, clip: clip, maximumFrequency: maximumFrequency)
        })
    }
}

extension EditPlanFile.PassFile {
    func editPass(number: Int, clip: ClipLatents?, maximumFrequency: Double) throws -> EditPass {
        func fail(_ field: String, _ reason: String) -> EditPlanError { .invalidPass(number, field: field, reason: reason) }
        var request = GenerationRequest(prompt: prompt)
        request.stepCount = steps ?? request.stepCount
        request.guidanceScale = guidance ?? request.guidanceScale
        request.negativePrompt = negative
        if let scheduler {
            guard let option = SchedulerOption(rawValue: scheduler) else {
                throw fail("scheduler", "\"\(scheduler)\" is not one of \(SchedulerOption.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            request.scheduler = option.kind
        }
        let begin: EditPass.Start
        switch start.from {
        case "noise": begin = .noise
        case "clip": begin = .clip(strength: start.strength ?? 0.5)
        case "previous": begin = .previous(strength: start.strength ?? 0.5)
        default: throw fail("start.from", "\"\(start.from)\" is not one of noise, clip, previous")
        }
        var pass = EditPass(start: begin, request: request)
        if let mask {
            guard let clip else { throw fail("mask", "a mask needs the plan's input clip (\"input\")") }
            guard mask.ranges.allSatisfy({ $0.count == 2 && $0[0] < $0[1] }) else { throw fail("mask.ranges", "give [start, end] pairs with start < end") }
            if let band = mask.band, band.count != 2 || band[0] >= band[1] { throw fail("mask.band", "give [low, high] with low < high") }
            do {
                pass.constraint = .mask(try EditMask(ranges: mask.ranges.map { $0[0]..<$0[1] }, band: mask.band.map { $0[0]..<$0[1] },
                                                     clipDuration: clip.duration, maximumFrequency: maximumFrequency))
            } catch {
                throw fail("mask", "\(error)")
            }
        }
        if let attention { pass.attention = try attention.attention(fail: fail) }
        return pass
    }
}

extension EditPlanFile.AttentionFile {
    func attention(fail: (String, String) -> EditPlanError) throws -> EditPass.Attention {
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
        let cross = try bounds(0, crossReplace ?? ReplaceSchedule.defaultCross, field: "cross_replace")
        let selfRange = try bounds(0, selfReplace ?? ReplaceSchedule.defaultSelf, field: "self_replace")
        var words: [String: ClosedRange<Double>] = [:]
        for (word, range) in crossReplaceWords ?? [:] {
            words[word] = try bounds(range.start, range.end, field: "cross_replace_words.\(word)")
        }
        let sorted = (weights ?? [:]).sorted { $0.key < $1.key }.map { (word: $0.key, factor: $0.value) }
        return EditPass.Attention(sourcePrompt: source, edit: PromptEdit(alignment: kind, weights: sorted,
                                                                          schedule: ReplaceSchedule(cross: cross, crossWords: words,
                                                                                                    self: selfRange)))
    }
}
