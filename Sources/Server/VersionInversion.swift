import Compute
import Editing
import Foundation
import Pipeline

/// One DDIM inversion per version, kept beside it in the clip's folder (`vN.ddim.inversion`), so
/// that several prompt edits of a version invert it once, as ZETA's demo serves many edits from
/// one inversion.
///
/// The recorded plan keeps the inversion's settings, not the file: a downloaded plan stays
/// self-contained, and its replay inverts again to the same latents (a DDIM inversion draws no
/// noise), so `auffusion edit` writes the same bytes. A DDPM inversion draws from the run's noise,
/// so it is made afresh by every run (docs/serve.md, "Starts").
struct VersionInversion {
    let pipeline: AuffusionPipeline

    /// `plan` with a one-pass DDIM inversion start of `clip` replaced by the inversion saved at
    /// `file`: read when it was made with the same settings, else made now and written there;
    /// other plans unchanged. `progress` hears the clip's encoding, then (step, total) over the
    /// inversion and the edit.
    /// - Returns: the plan to run, the steps inverted now (which the plan's progress comes after)
    ///   and the clip's latents, for the plan to use rather than encode the clip again.
    func reusing(_ plan: EditPlan, clip: EditClip, file: URL,
                 progress: (JobProgress) -> Bool) throws -> (plan: EditPlan, inverted: Int, encoded: ClipLatents?) {
        guard plan.passes.count == 1, case .inversion(let start) = plan.passes[0].start,
              case .invert(let settings) = start.source, settings.method == .ddim else { return (plan, 0, nil) }
        var none: NoiseSource?
        let encoded = try clip.latents(pipeline: pipeline, posteriorNoise: &none) { encoding in
            progress(JobProgress(step: 0, total: 0, rendering: encoding))
        }
        let latents = encoded.latents
        let edited = start.editSteps(settings)
        var inverted = 0
        let saved = try? Inversion(contentsOf: file, for: latents, pipeline: pipeline)
        if saved?.settings != settings {
            var noise = NoiseSource(seed: 0)     // a DDIM inversion draws nothing
            let inversion = try Inversion(inverting: latents, settings: settings, pipeline: pipeline, noise: &noise) {
                progress(JobProgress(step: $0.step, total: settings.startStep + edited))
            }
            try inversion.write(to: file, pipeline: pipeline)
            inverted = settings.startStep
        }
        var reusing = plan
        reusing.passes[0].start = .inversion(InversionStart(.file(file), strength: start.strength))
        return (reusing, inverted, encoded)
    }
}
