import ArgumentParser

/// The sampling and reporting options every denoising command shares.
struct SamplingOptions: ParsableArguments {
    @Option(help: "Denoising steps (an edit of a clip runs the part of the schedule its strength keeps).")
    var steps = 100

    @Option(help: "Classifier-free guidance scale (1 turns guidance off).")
    var guidance: Float = 7.5

    @Option(help: "Sampler: \(SchedulerOption.allCases.map(\.rawValue).joined(separator: ", ")) (default: the model's).")
    var scheduler: SchedulerOption?

    @Option(help: "Seed of the noise (torch.randn-compatible).")
    var seed: UInt64 = 0

    @Flag(help: "Print a JSON summary on stdout.")
    var json = false

    @Flag(help: "Print no progress.")
    var quiet = false

    func validate() throws {
        guard steps >= 1 else { throw ValidationError("--steps must be at least 1") }
    }

    /// Whether progress and informational lines are suppressed.
    var silent: Bool { quiet || json }
}
