import Editing
import Foundation
import Pipeline

/// Prints a step counter with the time per step and the time left on stderr, unless quiet:
/// one updating line on a terminal, one line per step otherwise (logs). For a plan of several
/// passes it says which pass runs, and the time left counts the passes still to come.
final class ProgressReporter {
    private let quiet: Bool
    private let interactive = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var last = Date()
    private var printed = false

    init(quiet: Bool) { self.quiet = quiet }

    /// A handler for one run's steps.
    func steps(label: String = "step") -> (DenoiseProgress) -> Bool {
        { [self] progress in
            show("\(label) \(progress.step)/\(progress.total)", done: progress.step, of: progress.total)
            return true
        }
    }

    /// A handler for a plan's steps.
    func passes() -> (EditProgress) -> Bool {
        { [self] progress in
            let pass = progress.passCount > 1 ? "pass \(progress.pass)/\(progress.passCount) " : ""
            show("\(pass)step \(progress.step.step)/\(progress.step.total)", done: progress.stepsDone, of: progress.totalSteps)
            return true
        }
    }

    /// Shows `label` with the time per step and the time left after `done` of `total` steps.
    func show(_ label: String, done: Int, of total: Int) {
        guard !quiet else { return }
        let now = Date()
        let perStep = now.timeIntervalSince(last)
        last = now
        let left = now.timeIntervalSince(start) / Double(max(done, 1)) * Double(max(total - done, 0))
        let line = String(format: "%@  %.2f s/step  %.0f s left", label, perStep, left)
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
