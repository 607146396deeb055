import Compute
import Editing
import Foundation
import Pipeline

/// One line of a JSON Lines batch file: what one task of the batch does, decoded from a JSON
/// object. Both kinds of batch read the same way (``BatchPlan``); a line names its own output
/// (relative to the batch's output folder) and seed, or takes the defaults.
public protocol BatchLine: Sendable {
    /// Decodes one line.
    /// - Throws: a message saying why the line is not one of these (the caller adds the place).
    init(json: Data) throws
    /// The output file, relative to the batch's output folder; `nil`: the default name.
    var output: String? { get }
    /// The seed of the line's first take; `nil`: the run's.
    var seed: UInt64? { get }
}

/// One line of a batch of generations. Only `prompt` is required; absent fields take the
/// defaults the caller gives (the command line's options).
public struct BatchItem: BatchLine, Codable, Equatable {
    public var prompt: String
    public var negative: String?
    public var seed: UInt64?
    public var steps: Int?
    public var guidance: Float?
    public var duration: Double?
    /// The approximations the line's run may make (``SpeedOptions``); absent: the defaults'.
    public var speed: SpeedOptions?
    public var output: String?

    public init(prompt: String, output: String? = nil) {
        self.prompt = prompt
        self.output = output
    }

    public init(json: Data) throws {
        let text = try BatchLineKeys.check(json, known: ["prompt", "negative", "seed", "steps", "guidance", "duration", "speed", "output"])
        if let object = try? JSONSerialization.jsonObject(with: text) as? [String: Any], let speed = object["speed"] as? [String: Any],
           let unknown = speed.keys.sorted().first(where: { !SpeedOptions.keys.contains($0) }) {
            throw BatchLineKeys.Failure("speed: unknown key \"\(unknown.abbreviated(to: 40))\"; known keys: \(SpeedOptions.keys.joined(separator: ", "))")
        }
        do {
            self = try JSONDecoder().decode(Self.self, from: text)
        } catch {
            throw BatchLineKeys.Failure("not a JSON object with a \"prompt\" (string) and optional negative, seed, steps, "
                + "guidance, duration, speed (an object of \(SpeedOptions.keys.joined(separator: ", "))), output")
        }
    }

    /// The file name of a prompt's takes outside a batch: its words, lowercase ASCII letters and
    /// digits joined by `-`, at most 48 characters (`a dog, barking!` → `a-dog-barking.wav`);
    /// `unconditional.wav` for no prompt.
    public static func fileName(for prompt: String) -> String {
        let words = prompt.lowercased().split { !($0.isASCII && ($0.isLetter || $0.isNumber)) }
        var name = ""
        for word in words where name.count + word.count < 48 { name += (name.isEmpty ? "" : "-") + word }
        return (name.isEmpty ? (prompt.isEmpty ? "unconditional" : "prompt") : name) + ".wav"
    }

    /// `defaults` with this line's prompt and the fields it gives.
    public func request(defaults: GenerationRequest) -> GenerationRequest {
        var request = defaults
        request.prompt = prompt
        request.negativePrompt = negative ?? defaults.negativePrompt
        request.stepCount = steps ?? defaults.stepCount
        request.guidanceScale = guidance ?? defaults.guidanceScale
        request.duration = duration ?? defaults.duration
        request.speed = speed ?? defaults.speed
        return request
    }
}

/// One line of a batch of edits: an edit plan exactly as `auffusion edit PLAN.json` reads it
/// (``EditPlanDocument``, docs/editing.md), on one line, plus an optional `"seed"`. Its
/// `"input"` is relative to the batch file's folder, its `"output"` to the output folder.
public struct EditBatchLine: BatchLine, Equatable {
    public var plan: EditPlanDocument
    public var seed: UInt64?

    public var output: String? { plan.output }

    public init(plan: EditPlanDocument, seed: UInt64? = nil) {
        self.plan = plan
        self.seed = seed
    }

    public init(json: Data) throws {
        let text = try BatchLineKeys.strict(json)
        guard var object = (try? JSONSerialization.jsonObject(with: text)) as? [String: Any] else {
            throw BatchLineKeys.Failure("not a JSON object (an edit plan on one line)")
        }
        // Decoded as a generation line decodes it: `null` is no seed, `true` or 2.5 is refused.
        struct Seed: Decodable { var seed: UInt64? }
        object.removeValue(forKey: "seed")
        do { seed = try JSONDecoder().decode(Seed.self, from: text).seed } catch {
            throw BatchLineKeys.Failure("\"seed\" must be a non-negative integer")
        }
        do {
            plan = try EditPlanDocument(json: try JSONSerialization.data(withJSONObject: object))
        } catch let error as EditPlanError {
            throw BatchLineKeys.Failure("\(error)")
        }
    }
}

/// The syntax and key checks and the error message of batch lines.
enum BatchLineKeys {
    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    /// `json` checked by ``StrictJSON``: plain JSON, no key twice in one object (which copy
    /// wins is up to the reader), nesting bounded, no `NaN` or `Infinity` (no field takes them).
    static func strict(_ json: Data) throws -> Data {
        do { return try StrictJSON.normalized(json, allowsNonFinite: false) } catch { throw Failure("\(error)") }
    }

    /// The ``strict(_:)`` text of `json`, a JSON object whose keys `known` lists all (a typo
    /// such as `"promt"` must not be ignored).
    static func check(_ json: Data, known: [String]) throws -> Data {
        let text = try strict(json)
        guard let object = (try? JSONSerialization.jsonObject(with: text)) as? [String: Any] else {
            throw Failure("not a JSON object")
        }
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw Failure("unknown key \"\(unknown.abbreviated(to: 40))\"; known keys: \(known.joined(separator: ", "))")
        }
        return text
    }
}
