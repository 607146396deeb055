import ArgumentParser
import Editing
import Foundation
import Pipeline
import Toolkit

/// `auffusion generate`: text to audio.
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generate audio from a text prompt.",
        discussion: """
        The format of the output follows its extension (.wav, .flac, .ogg, .aiff). Without --seed, a \
        seed is drawn and reported (--json). With --batch FILE.jsonl, each line is {"prompt": …, \
        "negative"?, "seed"?, "steps"?, "guidance"?, "duration"?, "speed"?, "output"?}; with -n or --seeds, \
        each prompt gives several takes. Both write into --output-dir with a manifest, survive \
        failed lines, resume with --skip-existing and split with --shard (docs/batch.md).
        """
    )

    @Argument(help: "What the sound should be, e.g. \"a dog barking in the rain\".")
    var prompt: String?

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup var output: OutputOptions
    @OptionGroup var batch: BatchOptions

    @OptionGroup var length: DurationOption

    @Flag(help: "Generate without a prompt (zero conditioning, no guidance).")
    var unconditional = false

    @Option(name: .customLong("save-latents"), help: "Also write the final latents (.npy).")
    var saveLatents: String?

    func validate() throws {
        if batch.batch == nil && !unconditional && (prompt ?? "").trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("give a prompt, or --unconditional")
        }
        if batch.batch != nil && prompt != nil { throw ValidationError("give either a prompt or --batch") }
        if unconditional && (prompt != nil || sampling.negative != nil || sampling.guidance != nil) {
            throw ValidationError("--unconditional generates with no prompt and no guidance; drop the prompt, --negative and --guidance")
        }
        if batch.isBatch {
            if output.namesFiles || saveLatents != nil || sampling.noise != nil {
                throw ValidationError("-o, --spectrogram, --save-mel, --save-latents and --noise name one file; with --batch, -n or "
                    + "--seeds give --output-dir DIR")
            }
        } else if output.output == nil {
            throw ValidationError("give -o FILE, or --output-dir DIR")
        }
    }

    func run() throws {
        if batch.isBatch { return try runBatch() }
        var sampling = sampling
        if sampling.seed == nil && sampling.noise == nil { sampling.seed = Seeds.draw() }
        let outputs = try output.outputs(latents: saveLatents, inputs: sampling.inputs)
        var noise = try sampling.noiseSource()
        let pipeline = try model.load(report)
        try report.emit { progress in
            try GenerationRun(request(prompt: prompt ?? ""), seed: sampling.recordedSeed)(
                pipeline: pipeline, noise: &noise, outputs: outputs, started: report.started, progress: progress.steps(), rendering: progress.rendering(),
                warn: progress.warn(report))
        }
    }

    private func request(prompt: String) -> GenerationRequest {
        var request = sampling.request(prompt: prompt)
        request.unconditional = unconditional
        request.duration = length.duration
        return request
    }

    /// Every line of the batch file, or the takes of the one prompt, in this shard, with the
    /// models loaded once.
    private func runBatch() throws {
        let plan = try batch.plan(baseSeed: sampling.seed) {
            BatchItem(prompt: prompt ?? "", output: BatchItem.fileName(for: unconditional ? "" : prompt ?? ""))
        }
        try batch.run(GenerationBatchJob(defaults: request(prompt: "")), plan: plan, pipeline: try model.load(report, residency: .allLoaded),
                      peaks: output.peaks, report: report)
    }
}
