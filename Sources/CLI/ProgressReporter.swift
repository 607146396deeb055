import Foundation

/// Prints a step counter with the time per step on stderr (one updating line), unless quiet.
final class ProgressReporter {
    private let label: String
    private let quiet: Bool
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
        let line = String(format: "\r%@ %d/%d  %.0f ms/step  %.1f s", label, done, total, perStep * 1000,
                          now.timeIntervalSince(start))
        FileHandle.standardError.write(Data(line.utf8))
        printed = true
    }

    func finish() {
        guard !quiet, printed else { return }
        FileHandle.standardError.write(Data("\n".utf8))
    }
}
