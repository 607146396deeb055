import ArgumentParser
import Editing
import Foundation
import Pipeline

/// `auffusion attention`: a generation with its per-word cross-attention maps.
struct AttentionCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "attention",
        abstract: "Generate a sound and show where each word of the prompt attended on the spectrogram.",
        discussion: """
        Writes into the output folder: audio.wav, spectrogram.png, one NN-WORD.png heatmap per word of the \
        prompt (the word's cross-attention over the greyscale spectrogram) and maps.npy, the maps of every \
        token [tokens, h, w] (BOS and EOS included) at the chosen resolution, averaged over steps, layers and heads.
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

    @Option(help: "Map resolution HxW, one of the stored levels (for Auffusion: 4x16, 8x32, 16x64).",
            transform: { try parseResolution($0, option: "--resolution") })
    var resolution = AttentionResolution(height: 8, width: 32)

    @Option(help: "Length in seconds or m:ss.s (default: the model's canvas, at most 10 s).", transform: seconds)
    var duration: Double?

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive, got \(duration)") }
    }

    func run() throws {
        let folder = URL(fileURLWithPath: output).standardizedFileURL
        do {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        } catch {
            throw CLIError("cannot create the output folder \(output)")
        }
        var outputs = try Outputs(audio: folder.appendingPathComponent("audio.wav").path,
                                  spectrogram: folder.appendingPathComponent("spectrogram.png").path, maps: folder.path,
                                  inputs: sampling.inputs)
        outputs.guardsPeaks = peaks.peakGuard
        var request = sampling.request(prompt: prompt)
        request.duration = duration
        var noise = try sampling.noiseSource()
        let pipeline = try model.load(report)
        try AttentionMapFiles.checkStored(resolution, pipeline: pipeline, canvasFrames: pipeline.canvas(of: request).frames,
                                          option: "--resolution")
        let store = AttentionStore(layersPerEvaluation: pipeline.unet.attentionLayerCount, promptCount: 1)
        let progress = report.progress()
        let result = try pipeline.promptToPrompt([prompt], request: request, noise: &noise, controller: store,
                                                 progress: progress.steps())
        progress.finish()
        guard let generated = result.outputs.first else { return }
        var files = try outputs.write(generated, report: report)
        let (tokenCount, pictures) = try AttentionMapFiles.write(
            store: store, prompt: prompt, index: 0, tokenizer: pipeline.text.tokenizer, image: generated.image,
            resolution: resolution, to: folder)
        files.maps = folder.path
        var record = RunRecord(command: "attention", request: request, sampling: sampling, result: generated, outputs: files,
                               report: report)
        record.details = ["resolution": .string(resolution.description), "tokens": .number(Double(tokenCount)),
                       "heatmaps": .array(pictures.map(JSONValue.string))]
        try record.emit(report)
    }
}
