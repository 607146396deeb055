import Editing
import Foundation
import Pipeline

/// How an edit of a clip starts, as a front end asks for it (docs/editing.md, "Inversion"): the
/// clip inverted into the model's noise (DDIM or edit-friendly DDPM inversion, or a saved
/// inversion), or SDEdit's clip noised to a strength. The command line fills it from `--start`,
/// `--inversion`, `--source-guidance` and `--strength`; the server from a request's fields.
public struct ClipStart: Sendable, Equatable {
    public enum Kind: String, CaseIterable, Sendable {
        case ddim, ddpm, sdedit
    }

    /// The start asked for; `nil`: the edit's own default.
    public var kind: Kind?
    /// A saved inversion of the clip (`auffusion invert`) to start from instead of inverting it.
    public var inversionFile: URL?
    /// The source prompt's guidance while inverting; `nil`: the method's.
    public var sourceGuidance: Float?
    /// The part of the schedule the edit runs (for an inversion: of its schedule); `nil`: 0.5 for
    /// SDEdit, the method's for an inversion.
    public var strength: Double?
    /// What the clip sounds like, for inverting it.
    public var sourcePrompt: String
    /// The steps and the edit's guidance the caller asked for; `nil`: an inversion's own
    /// (``InversionSettings/stepCount``, ``InversionSettings/editGuidance``).
    public var steps: Int?, guidance: Float?

    public init(kind: Kind? = nil, inversionFile: URL? = nil, sourceGuidance: Float? = nil, strength: Double? = nil,
                sourcePrompt: String = "", steps: Int? = nil, guidance: Float? = nil) {
        self.kind = kind
        self.inversionFile = inversionFile
        self.sourceGuidance = sourceGuidance
        self.strength = strength
        self.sourcePrompt = sourcePrompt
        self.steps = steps
        self.guidance = guidance
    }

    /// Why a start cannot be made as asked.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The request names a scheduler, but an inversion steps with DDIM.
        case schedulerWithInversion
        /// The caller asked for a step count other than the saved inversion's schedule.
        case stepsDifferFromInversion(given: Int, inversion: Int)

        public var description: String {
            switch self {
            case .schedulerWithInversion:
                "a scheduler does not apply to an inversion start (it steps with DDIM); start with SDEdit to choose one"
            case .stepsDifferFromInversion(let given, let inversion):
                "the saved inversion has a schedule of \(inversion) steps, not \(given); leave the step count out"
            }
        }
    }

    /// The pass's start; `request` with the inversion's step count and edit guidance where the
    /// caller gave none (``steps``, ``guidance``), a saved inversion's read from its file; and the
    /// record's details of the start (`from`, `strength`, `method`, `steps`, `start_step`,
    /// `source_guidance`, and for a saved inversion its `file`).
    /// - Parameter fallback: the edit's start when neither ``kind`` nor ``inversionFile`` is given.
    /// - Throws: ``Failure``; ``InversionError/unreadable(path:reason:)`` for a file that is not an inversion.
    public func start(fallback: Kind, request: inout GenerationRequest) throws -> (start: EditPass.Start, details: JSONValue) {
        let start: InversionStart
        if let inversionFile {
            start = InversionStart(.file(inversionFile), strength: strength)
        } else if let method = InversionSettings.Method(rawValue: (kind ?? fallback).rawValue) {
            start = InversionStart(.invert(InversionSettings(method: method, sourcePrompt: sourcePrompt, stepCount: steps,
                                                             strength: strength, guidance: sourceGuidance)))
        } else {
            let strength = strength ?? 0.5
            return (.clip(strength: strength), .object(["from": .string("sdedit"), "strength": .number(strength)]))
        }
        let settings = try start.declaredSettings()
        if let steps, steps != settings.stepCount { throw Failure.stepsDifferFromInversion(given: steps, inversion: settings.stepCount) }
        guard request.scheduler == nil else { throw Failure.schedulerWithInversion }
        request.stepCount = settings.stepCount
        request.guidanceScale = guidance ?? settings.editGuidance
        var record: [String: JSONValue] = ["from": .string("inversion"), "method": .string(settings.method.rawValue),
                                           "steps": .number(Double(settings.stepCount)), "start_step": .number(Double(start.editSteps(settings))),
                                           "source_guidance": .number(Double(settings.guidance))]
        record["strength"] = strength.map { .number($0) }
        record["file"] = inversionFile.map { .string($0.path) }
        return (.inversion(start), .object(record))
    }
}
