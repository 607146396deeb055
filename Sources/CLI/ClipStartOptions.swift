import ArgumentParser
import Editing
import Foundation
import Pipeline
import Toolkit

/// How an edit of a clip starts: the clip inverted into the model's noise, or SDEdit's clip
/// noised to a strength (docs/editing.md, "Inversion").
enum ClipStart: String, ExpressibleByArgument, CaseIterable {
    case ddim, ddpm, sdedit
}

extension InversionSettings.Method: ExpressibleByArgument {}

/// The start options of the edits that take a clip and a prompt: `swap`, `refine`, `reweight`, `transfer`.
struct ClipStartOptions: ParsableArguments {
    @Option(help: "How the edit starts from the clip: ddim (DDIM inversion; the source kept on it), ddpm (edit-friendly DDPM inversion, ZETA) or sdedit (the clip noised to --strength). Default: ddim for swap, refine and reweight; sdedit for transfer.")
    var start: ClipStart?

    @Option(help: ArgumentHelp("Start from a saved inversion of this clip (`auffusion invert`) instead of inverting it.", valueName: "FILE"))
    var inversion: String?

    @Option(name: .customLong("source-guidance"), help: "Guidance of the source prompt while inverting (default: ddim 1, ddpm 3).")
    var sourceGuidance: Float?

    func validate() throws {
        if inversion != nil, let start { throw ValidationError("--inversion's file has its own method; drop --start \(start.rawValue)") }
        if sourceGuidance != nil, inversion != nil || start == .sdedit {
            throw ValidationError("--source-guidance applies when the edit inverts the clip (--start ddim or ddpm, no --inversion)")
        }
        if let sourceGuidance, !(sourceGuidance.isFinite && sourceGuidance >= 0) {
            throw ValidationError("--source-guidance must be a non-negative number, got \(sourceGuidance)")
        }
    }

    /// The input files these options name.
    var inputs: [URL] { [inversion].compactMap { $0.map(URL.init(fileURLWithPath:)) } }

    /// The pass's start from the clip, `request` with the inversion's step count and edit
    /// guidance where the user gave none, and the record's details of the start.
    /// - Parameters:
    ///   - fallback: the command's start when neither `--start` nor `--inversion` is given.
    ///   - strength: `--strength` (for an inversion: the part of its schedule the edit runs).
    ///   - sourcePrompt: what the clip sounds like, for inverting it.
    func start(fallback: ClipStart, strength: Double?, sourcePrompt: String, sampling: SamplingOptions,
               request: inout GenerationRequest) throws -> (EditPass.Start, JSONValue) {
        var record: [String: JSONValue] = ["from": .string("inversion")]
        record["strength"] = strength.map { .number($0) }
        if let inversion {
            record["file"] = .string(URL(fileURLWithPath: inversion).path)
            return (.inversion(InversionStart(.file(URL(fileURLWithPath: inversion)), strength: strength)), .object(record))
        }
        let kind = start ?? fallback
        guard let method = InversionSettings.Method(rawValue: kind.rawValue) else {
            let strength = strength ?? 0.5
            return (.clip(strength: strength), .object(["from": .string("sdedit"), "strength": .number(strength)]))
        }
        guard request.scheduler == nil else { throw CLIError("--scheduler does not apply to an inversion start (it steps with DDIM); use --start sdedit to choose a sampler") }
        let settings = InversionSettings(method: method, sourcePrompt: sourcePrompt, stepCount: sampling.steps, strength: strength,
                                         guidance: sourceGuidance)
        request.stepCount = settings.stepCount
        request.guidanceScale = sampling.guidance ?? settings.editGuidance
        record.merge(["method": .string(method.rawValue), "steps": .number(Double(settings.stepCount)),
                      "start_step": .number(Double(settings.startStep)), "source_guidance": .number(Double(settings.guidance))]) { $1 }
        return (.inversion(InversionStart(.invert(settings))), .object(record))
    }
}
