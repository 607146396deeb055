import ArgumentParser
import Editing
import Foundation
import Schedulers
import Toolkit

extension ClipStart.Kind: ExpressibleByArgument {}
extension InversionSettings.Method: ExpressibleByArgument {}

/// The start options of the edits that take a clip and a prompt: `swap`, `refine`, `reweight`, `transfer`.
struct ClipStartOptions: ParsableArguments {
    @Option(help: "How the edit starts from the clip: ddim (DDIM inversion; the source kept on it), ddpm (edit-friendly DDPM inversion, ZETA) or sdedit (the clip noised to --strength). Default: ddim for swap, refine and reweight; sdedit for transfer.")
    var start: ClipStart.Kind?

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

    /// Refuses, for an edit whose start is `fallback` unless these options say otherwise, the
    /// options that would do nothing: a `scheduler` (an inversion steps with DDIM) and a
    /// `sourcePrompt` (what the clip is inverted with) where the edit does not invert the clip.
    func refuseUnused(fallback: ClipStart.Kind, scheduler: SchedulerKind?, sourcePrompt: String? = nil) throws {
        let kind = inversion == nil ? start ?? fallback : nil
        if scheduler != nil, kind != .sdedit {
            throw ValidationError("--scheduler does not apply to an inversion start (it steps with DDIM); use --start sdedit to choose a sampler")
        }
        if sourcePrompt != nil, kind == .sdedit || kind == nil {
            throw ValidationError("--source-prompt applies when the edit inverts the clip (--start ddim or ddpm, no --inversion)")
        }
    }

    /// The input files these options name.
    var inputs: [URL] { [inversion].compactMap { $0.map(URL.init(fileURLWithPath:)) } }

    /// The start these options ask for, with the command's `--strength`, what the clip sounds like
    /// and the user's `--steps` and `--guidance` (the library resolves it: ``ClipStart/start(fallback:request:)``).
    func choice(strength: Double?, sourcePrompt: String = "", sampling: SamplingOptions) -> ClipStart {
        ClipStart(kind: start, inversionFile: inversion.map(URL.init(fileURLWithPath:)), sourceGuidance: sourceGuidance,
                  strength: strength, sourcePrompt: sourcePrompt, steps: sampling.steps, guidance: sampling.guidance)
    }
}
