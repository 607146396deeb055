import ArgumentParser
import Editing
import Foundation
import Pipeline
import Toolkit

/// `auffusion attention`: a generation with its per-word cross-attention maps.
struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Generate a sound and show where each word of the prompt attended on the spectrogram.",
        discussion: """
        Writes into the output folder: audio.wav, spectrogram.png, one NN-WORD.png heatmap per word of the \
        prompt (the word's cross-attention over the greyscale spectrogram) and maps.npy, the maps of every \
        token [tokens, h, w] (BOS and EOS included) at the chosen resolution, averaged over steps, layers and heads. \
        The maps are recorded on one canvas of the model, so --duration may be at most its length (10.24 s \
        for Auffusion's, 2.56 s for the embedded model's).
        """
    )

    @Argument(help: "The prompt, e.g. \"a dog barking in the rain\".")
    var prompt: String

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var report: ReportOptions
    @OptionGroup var peaks: PeakOptions

    @Option(name: .shortAndLong, help: "Output folder (created if missing).")
    var output: String

    @Option(help: "Map resolution HxW, one of the stored levels (for Auffusion: 4x16, 8x32, 16x64; default 8x32, the level 8 latent rows high).",
            transform: { try parseResolution($0, option: "--resolution") })
    var resolution: AttentionResolution?

    @OptionGroup var length: DurationOption

    func validate() throws {
        guard !output.isEmpty else { throw ValidationError("-o needs the name of a folder") }
        try sampling.refuseFeatureCaching(with: "attention maps")
    }

    func run() throws {
        var request = sampling.request(prompt: prompt)
        request.duration = length.duration
        var noise = try sampling.noiseSource()
        _ = try RunOutputs(maps: URL(fileURLWithPath: output), inputs: sampling.inputs)   // the folder, before the model loads
        let pipeline = try model.load(report)
        try report.emit { progress in
            try AttentionMapRun(request, seed: sampling.recordedSeed, resolution: resolution)(
                pipeline: pipeline, noise: &noise, into: URL(fileURLWithPath: output), inputs: sampling.inputs, guardsPeaks: peaks.peakGuard,
                started: report.started, progress: progress.steps(), warn: progress.warn(report))
        }
    }
}
