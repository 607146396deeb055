import Editing
import Foundation

/// What the page asks for: one edit of one version of a clip (or a generation), as the JSON body
/// of `POST /api/jobs` (docs/serve.md, "API"). It becomes a one-pass ``EditPlanDocument``, so that
/// the server runs exactly what `auffusion edit` runs on the same plan and seed.
public struct EditRequest: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable {
        /// Text to audio: a new clip.
        case generate
        /// The whole version under the prompt: SDEdit (`start` `"sdedit"`, the default; `strength`,
        /// default 0.5) or ZETA's edit from its DDPM inversion (`"ddpm"`; `source_prompt` describes
        /// the version, default empty; `strength`: the part of the schedule inverted, default 0.5).
        case restyle
        /// Regenerate `ranges` (and `band`) under the prompt (`strength`, default 1: from noise).
        case fill
        /// Prompt-to-prompt word swap from `source_prompt` to `prompt` on the version: from its DDIM
        /// inversion (`start` `"inversion"`, the default) or from SDEdit's start (`"sdedit"`, `strength` default 0.7).
        case swap
        /// Scale the attention of words of `prompt` by `weights` on the version; starts as `swap` does.
        case reweight
    }

    public var kind: Kind
    /// The clip and version to edit; not for `generate`. The version defaults to the latest.
    public var clip: String?
    public var version: Int?
    public var prompt: String
    public var sourcePrompt: String?
    /// How an edit of a version starts: swap and reweight `"inversion"` (default) or `"sdedit"`;
    /// restyle `"sdedit"` (default) or `"ddpm"`. docs/serve.md, "Starts".
    public var start: String?
    /// SDEdit: how far the version is noised. An inversion: the fraction of its schedule inverted and edited.
    public var strength: Double?
    /// `[[start, end], …]` in seconds, for `fill`.
    public var ranges: [[Double]]?
    /// `[low, high]` in Hz, for `fill`: a time × frequency box.
    public var band: [Double]?
    /// Word → attention factor, for `reweight`.
    public var weights: [String: Float]?
    public var steps: Int?
    public var guidance: Float?
    public var seed: UInt64?

    enum CodingKeys: String, CodingKey, CaseIterable {
        case kind, clip, version, prompt, start, strength, ranges, band, weights, steps, guidance, seed
        case sourcePrompt = "source_prompt"
    }

    public init(kind: Kind, prompt: String) {
        self.kind = kind
        self.prompt = prompt
    }

    /// The integer fields and what they hold, checked before decoding: the decoder's own error
    /// for `2.5`, `-1` as a seed or `1e20` names no field.
    private static let wholeNumberFields: [(CodingKeys, @Sendable (NSNumber) -> Bool, String)] = [
        (.version, { Int(exactly: $0) != nil }, "a whole number"),
        (.steps, { Int(exactly: $0) != nil }, "a whole number"),
        (.seed, { UInt64(exactly: $0) != nil }, "a whole number from 0 to 18446744073709551615"),
    ]

    /// Decodes a request, refusing unknown keys and naming the field of any type error.
    /// - Throws: ``ServerError`` (400) with a message a person can act on.
    static func decode(_ data: Data) throws -> EditRequest {
        let object: Any
        do {
            object = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw ServerError.badRequest("the body is not valid JSON; send an object such as {\"kind\": \"fill\", \"prompt\": \"…\"}")
        }
        guard let fields = object as? [String: Any] else { throw ServerError.badRequest("the body must be a JSON object") }
        let known = CodingKeys.allCases.map(\.stringValue)
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            throw ServerError.badRequest("unknown key \"\(unknown)\"; known keys: \(known.sorted().joined(separator: ", "))")
        }
        for (key, fits, what) in wholeNumberFields {
            if let number = fields[key.rawValue] as? NSNumber, !fits(number) {
                throw ServerError.badRequest("\"\(key.rawValue)\" must be \(what), got \(number)")
            }
        }
        do {
            return try JSONDecoder().decode(EditRequest.self, from: data)
        } catch let DecodingError.keyNotFound(key, _) {
            throw ServerError.badRequest("\"\(key.stringValue)\" is missing")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context) {
            let field = context.codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
            throw ServerError.badRequest("\"\(field)\" has the wrong type: \(context.debugDescription)")
        } catch let DecodingError.dataCorrupted(context) {
            let field = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ServerError.badRequest("\"\(field)\": \(context.debugDescription)")
        }
    }

    /// The plan of this edit: one pass, reading `input` (the parent version's file) and writing
    /// `output`, both names inside the clip's folder.
    /// - Throws: ``ServerError`` (400) for a field the kind needs or does not take.
    func document(input: String?, output: String) throws -> EditPlanDocument {
        func refuse(_ message: String) -> ServerError { .badRequest("\(kind.rawValue): \(message)") }
        if kind != .fill, ranges != nil || band != nil { throw refuse("\"ranges\" and \"band\" are for fill") }
        if kind != .reweight, weights != nil { throw refuse("\"weights\" are for reweight") }
        if kind == .generate, strength != nil { throw refuse("a generation starts from noise; drop \"strength\"") }
        if let strength, !(0...1).contains(strength) { throw refuse("\"strength\" must be in [0, 1], got \(strength)") }
        let method = try inversionMethod(refuse)
        if sourcePrompt != nil, kind != .swap, kind != .reweight, method != .ddpm {
            throw refuse("\"source_prompt\" is for swap, reweight and a restyle from the ddpm inversion")
        }
        var pass: [String: Any] = ["prompt": prompt]
        if let steps { pass["steps"] = steps }
        if let guidance { pass["guidance"] = guidance }
        /// SDEdit's start at `strength`, or the version's inversion with `method` and the edit's defaults (as the CLI's).
        func start(sdedit fallback: Double, source: String) -> [String: Any] {
            guard let method else { return ["from": "clip", "strength": strength ?? fallback] }
            let settings = InversionSettings(method: method, stepCount: steps)
            pass["steps"] = settings.stepCount
            pass["guidance"] = guidance ?? settings.editGuidance
            var start: [String: Any] = ["from": "inversion", "method": method.rawValue, "source_prompt": source]
            if let strength { start["strength"] = strength }
            return start
        }
        switch kind {
        case .generate:
            pass["start"] = ["from": "noise"]
        case .restyle:
            pass["start"] = start(sdedit: 0.5, source: sourcePrompt ?? "")
        case .fill:
            guard let ranges, !ranges.isEmpty else { throw refuse("give \"ranges\": [[start, end]] in seconds") }
            pass["start"] = ["from": "clip", "strength": strength ?? 1]
            var mask: [String: Any] = ["ranges": ranges]
            if let band { mask["band"] = band }
            pass["mask"] = mask
        case .swap:
            guard let sourcePrompt else { throw refuse("give \"source_prompt\", what the clip sounds like now") }
            pass["start"] = start(sdedit: 0.7, source: sourcePrompt)
            pass["attention"] = ["source": sourcePrompt, "alignment": "swap"]
        case .reweight:
            guard let weights, !weights.isEmpty else { throw refuse("give \"weights\": {\"word\": factor}") }
            pass["start"] = start(sdedit: 0.7, source: sourcePrompt ?? prompt)
            pass["attention"] = ["source": sourcePrompt ?? prompt, "alignment": "none", "weights": weights]
        }
        var plan: [String: Any] = ["output": output, "passes": [pass]]
        if let input { plan["input"] = input }
        do {
            return try EditPlanDocument(json: try JSONSerialization.data(withJSONObject: plan, options: [.sortedKeys]))
        } catch let error as EditPlanError {
            throw ServerError.badRequest("\(error)")
        }
    }

    /// The inversion the edit starts from (`nil`: SDEdit's start), from `start` and the kind's default.
    private func inversionMethod(_ refuse: (String) -> ServerError) throws -> InversionSettings.Method? {
        guard let start else { return kind == .swap || kind == .reweight ? .ddim : nil }
        switch (kind, start) {
        case (.swap, "inversion"), (.reweight, "inversion"): return .ddim
        case (.restyle, "ddpm"): return .ddpm
        case (.swap, "sdedit"), (.reweight, "sdedit"), (.restyle, "sdedit"): return nil
        case (.generate, _), (.fill, _): throw refuse("\"start\" is for restyle, swap and reweight")
        case (.restyle, let other): throw refuse("\"start\" is \"sdedit\" or \"ddpm\" for restyle, got \"\(other)\"")
        case (_, let other): throw refuse("\"start\" is \"inversion\" or \"sdedit\", got \"\(other)\"")
        }
    }
}
