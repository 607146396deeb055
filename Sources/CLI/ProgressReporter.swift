import Foundation

/// Prints a step counter with the time per step and the time left on stderr, unless quiet:
/// one updating line on a terminal, one line per step otherwise (logs).
final class ProgressReporter {
    private let label: String
    private let quiet: Bool
    private let interactive = isatty(STDERR_FILENO) != 0
    private let start = Date()
    private var last = Date()
    private var printed = false

    init(label: String, quiet: Bool) {
        self.label = label
        self.quiet = quiet
    }

    func step(_ done: Int, of total: Int) {
        guard !quiet else { return }
        let now = Date()
        let perStep = now.timeIntervalSince(last)
        last = now
        let elapsed = now.timeIntervalSince(start)
        let left = elapsed / Double(max(done, 1)) * Double(max(total - done, 0))
        let line = String(format: "%@ %d/%d  %.2f s/step  %.0f s left", label, done, total, perStep, left)
        FileHandle.standardError.write(Data((interactive ? "\r\(line)\u{1B}[K" : "\(line)\n").utf8))
        printed = true
    }

    func finish() {
        guard !quiet, printed, interactive else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
