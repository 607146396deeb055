import ArgumentParser
import AudioDSP
import Compute
import Editing
import Foundation
import Pictures
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

    @Option(name: .shortAndLong, help: "Output folder (created if missing).")
    var output: String

    @Option(help: "Map resolution HxW, one of the stored levels (for Auffusion: 4x16, 8x32, 16x64).")
    var resolution = "8x32"

    @Option(help: "Length in seconds (default: the model's canvas, at most 10 s).")
    var duration: Double?

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        guard AttentionResolution(resolution) != nil else {
            throw ValidationError("--resolution must be HxW with positive integers, e.g. 8x32, got \(resolution)")
        }
    }

    func run() throws {
        try reportingErrors {
            guard let size = AttentionResolution(resolution) else { throw CLIError("bad --resolution \(resolution)") }
            let folder = URL(fileURLWithPath: output)
            do {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            } catch {
                throw CLIError("cannot create the output folder \(output)")
            }
            guard FileManager.default.isWritableFile(atPath: folder.path) else { throw CLIError("the output folder \(output) is not writable") }
            var request = GenerationRequest(prompt: prompt)
            request.stepCount = sampling.steps
            request.guidanceScale = sampling.guidance
            request.duration = duration
            request.scheduler = sampling.scheduler?.kind

            let pipeline = try model.load(quiet: sampling.silent)
            try AttentionMapFiles.checkStored(size, pipeline: pipeline, canvasFrames: pipeline.canvas(of: request).frames, option: "--resolution")
            let store = AttentionStore(layersPerEvaluation: pipeline.unet.attentionLayerCount, promptCount: 1)
            var noise = NoiseSource(seed: sampling.seed)
            let reporter = ProgressReporter(label: "step", quiet: sampling.silent)
            let result = try pipeline.promptToPrompt([prompt], request: request, noise: &noise, controller: store,
                                                     progress: { progress in
                reporter.step(progress.step, of: progress.total)
                return true
            })
            reporter.finish()
            guard let generated = result.outputs.first else { return }
            try AudioFile.write(generated.audio, to: folder.appendingPathComponent("audio.wav"))
            try SpectrogramPicture.render(generated.image, timeAxis: true)
                .writePNG(to: folder.appendingPathComponent("spectrogram.png"))
            let (tokenCount, pictures) = try AttentionMapFiles.write(
                store: store, prompt: prompt, index: 0, tokenizer: pipeline.text.tokenizer, image: generated.image,
                resolution: size, to: folder)
            if sampling.json {
                let summary: [String: Any] = ["output": output, "prompt": prompt, "resolution": size.description,
                                              "tokens": tokenCount, "heatmaps": pictures, "steps": sampling.steps, "seed": sampling.seed]
                let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            }
        }
    }
}
