import ArgumentParser
import Editing
import Foundation
import Pipeline
import Toolkit

/// `auffusion invert`: invert a clip once, for any number of edits (`--inversion FILE`).
struct InvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "invert",
        abstract: "Invert a clip into the model's noise and save it, so that many edits start from it (--inversion FILE).",
        discussion: """
            ddim (the default) is DDIM inversion, which swap, refine and reweight use with Direct \
            Inversion; ddpm is edit-friendly DDPM inversion, ZETA's, for transfer --start ddpm. The file \
            holds the trajectory (and DDPM's noise maps), the settings, and fingerprints of the clip's \
            latents, the model and the schedule: an edit refuses it for another clip, model or schedule.
            """
    )

    @Argument(help: "The clip to invert (any format libsndfile reads).")
    var input: String

    @Option(name: .shortAndLong, help: ArgumentHelp("The inversion file to write.", valueName: "FILE.inversion"))
    var output: String

    @Option(help: "ddim or ddpm.")
    var method = InversionSettings.Method.ddim

    @Option(help: "What the clip sounds like (default: empty, which inverts with the unconditional prediction).")
    var prompt = ""

    @Option(help: "Steps of the inversion's DDIM schedule (default: ddim 50, ddpm 200).")
    var steps: Int?

    @Option(help: "The part of the schedule inverted, and so the most an edit may run, 0…1 (default: ddim 1, ddpm 0.5).")
    var strength: Double?

    @Option(name: .customLong("source-guidance"), help: "Guidance of --prompt while inverting (default: ddim 1, ddpm 3).")
    var sourceGuidance: Float?

    @Option(help: "Seed of the noisy latents a ddpm inversion draws.")
    var seed: UInt64 = 0

    @OptionGroup var model: ModelOptions
    @OptionGroup var report: ReportOptions

    func validate() throws {
        if let strength, !(strength > 0 && strength <= 1) { throw ValidationError("--strength must be in (0, 1], got \(strength)") }
        if let steps, steps < 1 { throw ValidationError("--steps must be at least 1, got \(steps)") }
        if let sourceGuidance, !(sourceGuidance.isFinite && sourceGuidance >= 0) {
            throw ValidationError("--source-guidance must be a non-negative number, got \(sourceGuidance)")
        }
    }

    func run() throws {
        let inputURL = URL(fileURLWithPath: input)
        let outputs = try RunOutputs(inversion: URL(fileURLWithPath: output), inputs: [inputURL])
        let pipeline = try model.load(report)
        let clip = try ClipInputOptions().read(input, pipeline: pipeline)
        let settings = InversionSettings(method: method, sourcePrompt: prompt, stepCount: steps, strength: strength,
                                         guidance: sourceGuidance)
        try report.emit { progress in
            try InversionRun(settings, seed: seed)(clip: clip, input: inputURL, pipeline: pipeline, outputs: outputs,
                                                   started: report.started, encoding: progress.rendering(),
                                                   progress: progress.steps(label: "inverting"))
        }
    }
}
