import Editing
import Foundation
import Pipeline
import Toolkit

/// Prints a step counter with the time per step and the time left on stderr, unless quiet:
/// one updating line on a terminal, one line per step otherwise (logs). For a plan of several
/// passes it says which pass runs, and the time left counts the passes still to come. The work
/// around the steps — encoding a clip, decoding and vocoding the result, window by window — is
/// shown the same way, each stage timed on its own.
final class ProgressReporter {
    private let quiet: Bool
    private let interactive = isatty(STDERR_FILENO) != 0
    private var clock = ProgressClock()
    private var printed = false
    private var lastPrinted = Date.distantPast

    init(quiet: Bool) { self.quiet = quiet }

    /// A handler for one run's steps.
    func steps(label: String = "step") -> (DenoiseProgress) -> Bool {
        { [self] progress in
            show("\(label) \(progress.step)/\(progress.total)", done: progress.step, of: progress.total)
            return true
        }
    }

    /// A handler for a plan's steps, and for the encoding and rendering around them.
    func passes() -> (EditProgress) -> Bool {
        { [self] progress in
            if let work = progress.rendering { return rendering()(work) }
            let pass = progress.passCount > 1 ? "pass \(progress.pass)/\(progress.passCount) " : ""
            show("\(pass)step \(progress.step.step)/\(progress.step.total)", done: progress.stepsDone, of: progress.totalSteps)
            return true
        }
    }

    /// A handler for the work around the steps: `decoding 3/12` and the like.
    func rendering() -> (RenderProgress) -> Bool {
        { [self] progress in
            show("\(progress.stage.rawValue) \(progress.done)/\(progress.total)", done: progress.done, of: progress.total,
                 stage: progress.stage.rawValue)
            return true
        }
    }

    /// Shows `label` with the time per unit and the time left after `done` of `total` units of
    /// `stage` (steps, or a stage's windows; ``ProgressClock``). In a log (not a terminal) a stage
    /// other than the steps prints at most a line a second, and its last.
    func show(_ label: String, done: Int, of total: Int, stage: String = "step") {
        guard !quiet else { return }
        let now = Date()
        let (perUnit, left) = clock.record(stage, done: done, of: total, at: now)
        guard interactive || stage == "step" || done >= total || now.timeIntervalSince(lastPrinted) >= 1 else { return }
        lastPrinted = now
        let line = String(format: stage == "step" ? "%@  %.2f s/step  %.0f s left" : "%@  %.2f s each  %.0f s left", label, perUnit, left ?? 0)
        Console.error(interactive ? "\r\(line)\u{1B}[K" : "\(line)\n")
        printed = true
    }

    /// Ends the updating line on a terminal, once.
    func finish() {
        guard !quiet, printed, interactive else { return }
        Console.error("\n")
        printed = false
    }

    /// A handler for warnings while the line may be showing: `report`'s, on a line of their own.
    func warn(_ report: ReportOptions) -> (String) -> Void {
        { [self] line in
            finish()
            report.warn(line)
        }
    }
}
