import ArgumentParser
import AudioDSP
import Compute
import Editing
import Foundation
import Pipeline

/// The options `swap` and `reweight` share with `generate`, and the run they make.
struct PromptEditOptions: ParsableArguments {
    @OptionGroup var model: ModelOptions

    @OptionGroup var sampling: SamplingOptions

    @Option(name: .shortAndLong, help: "Output audio file: the edited prompt.")
    var output: String

    @Option(name: .customLong("source-output"), help: "Also write the source prompt's audio.")
    var sourceOutput: String?

    @Option(help: "Initial latents as .npy: 1×4×h×w, shared by the prompts, or P×4×h×w with --no-shared-noise; with --from, the 1×4×h×w tensor added to the clip.")
    var noise: String?

    @Flag(name: .customLong("shared-noise"), inversion: .prefixedNo,
          help: "One initial latent for all prompts, so that they differ only through the edit (original prompt-to-prompt; the default), or one per prompt (Auffusion's pipeline).")
    var sharedNoise: Bool?

    @Option(help: "Length in seconds (default: the model's canvas, at most 10 s).")
    var duration: Double?

    @Option(help: "Also write the edited spectrogram picture (PNG).")
    var spectrogram: String?

    @Option(name: .customLong("save-mel"), help: "Also write the edited log-mel (.npy, 256 × frames).")
    var saveMel: String?

    @Option(help: ArgumentHelp("Edit an existing clip: every prompt starts from its latents noised to --strength (SDEdit), with the same noise.", valueName: "IN.wav"))
    var from: String?

    @Option(help: "With --from: how much of the schedule to run, 0…1 (default 0.5); the output has the clip's length.")
    var strength: Double?

    @Option(help: ArgumentHelp("Also write the edited prompt's per-word attention maps (as `auffusion attention`) into this folder.", valueName: "DIR"))
    var maps: String?

    @Option(name: .customLong("maps-resolution"), help: "Resolution of --maps, a stored level HxW.")
    var mapsResolution = "8x32"

    func validate() throws {
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        if noise != nil && sampling.seed != 0 { throw ValidationError("use either --seed or --noise") }
        if let strength {
            guard from != nil else { throw ValidationError("--strength needs --from IN.wav") }
            guard (0...1).contains(strength) else { throw ValidationError("--strength must be between 0 and 1, got \(strength)") }
        }
        if from != nil, let sharedNoise {
            throw ValidationError("--from always starts every prompt from the same noised clip; drop --\(sharedNoise ? "" : "no-")shared-noise")
        }
    }

    /// Denoises `prompts` (source first) under `edit`, confined to where `blendWords` attend if
    /// any are given (``LocalBlend``, maps of `blendResolution` or its default), and writes the outputs.
    func run(prompts: [String], edit: PromptEdit, blendWords: [String] = [], blendResolution: AttentionResolution? = nil) throws {
        let mapResolution = try maps.map { _ in
            guard let size = AttentionResolution(mapsResolution) else { throw CLIError("--maps-resolution must look like 8x32") }
            return size
        }
        let outputURL = URL(fileURLWithPath: output)
        guard AudioContainer(path: outputURL) != nil else { throw AudioFileError.unsupportedExtension(path: output) }
        let inputs = [noise, from].compactMap { $0.map(URL.init(fileURLWithPath:)) }
        for path in [output, sourceOutput, spectrogram, saveMel].compactMap({ $0 }) {
            try AtomicFile.ensure(URL(fileURLWithPath: path), isNotOneOf: inputs)
        }
        var request = GenerationRequest(prompt: prompts[0])
        request.stepCount = sampling.steps
        request.guidanceScale = sampling.guidance
        request.duration = duration
        request.scheduler = sampling.scheduler?.kind
        var source = try noise.map { try NoiseSource(tensors: [try NumPyFile.read(URL(fileURLWithPath: $0))]) } ?? NoiseSource(seed: sampling.seed)

        let pipeline = try model.load(quiet: sampling.silent)
        if let mapResolution {
            try AttentionMapFiles.checkStored(mapResolution, pipeline: pipeline, canvasFrames: pipeline.canvas(of: request).frames,
                                              option: "--maps-resolution")
        }
        let reporter = ProgressReporter(label: "step", quiet: sampling.silent)
        let report = { (progress: Pipeline.Progress) -> Bool in
            reporter.step(progress.step, of: progress.total)
            return true
        }
        let blend = blendWords.isEmpty ? nil
            : try LocalBlend(words: blendWords, prompts: prompts.map { PromptTokens($0, tokenizer: pipeline.text.tokenizer) },
                             resolution: blendResolution)
        let result: PromptToPromptResult
        if let from {
            var mean: NoiseSource? = nil
            let clip = try encodeClip(try AudioFile.read(URL(fileURLWithPath: from)), named: from, pipeline: pipeline,
                                      posteriorNoise: &mean)
            result = try pipeline.promptToPrompt(prompts, edit: edit, on: clip, strength: strength ?? 0.5, request: request,
                                                 blend: blend, noise: &source, progress: report)
        } else {
            let controller = try edit.makeController(prompts: prompts, tokenizer: pipeline.text.tokenizer, steps: sampling.steps,
                                                     layersPerEvaluation: pipeline.unet.attentionLayerCount)
            result = try pipeline.promptToPrompt(prompts, request: request, noise: &source,
                                                 initialNoise: (sharedNoise ?? true) ? .shared : .perPrompt, controller: controller,
                                                 constraint: blend?.constraint(reading: controller), progress: report)
        }
        reporter.finish()
        guard let edited = result.outputs.last, let original = result.outputs.first else { return }
        try AudioFile.write(edited.audio, to: outputURL, protecting: inputs)
        if let sourceOutput { try AudioFile.write(original.audio, to: URL(fileURLWithPath: sourceOutput), protecting: inputs) }
        if let spectrogram {
            try SpectrogramPicture.render(edited.image, timeAxis: true).writePNG(to: URL(fileURLWithPath: spectrogram))
        }
        if let saveMel { try NumPyFile.write(edited.logMel, to: URL(fileURLWithPath: saveMel)) }
        if let maps, let mapResolution, let recorded = result.attentionStore, let prompt = prompts.last {
            _ = try AttentionMapFiles.write(store: recorded, prompt: prompt, index: prompts.count - 1,
                                            tokenizer: pipeline.text.tokenizer, image: edited.image,
                                            resolution: mapResolution, to: URL(fileURLWithPath: maps))
        }
        if sampling.json {
            let summary: [String: Any] = ["output": output, "source_output": sourceOutput ?? NSNull(), "prompts": prompts,
                                          "seconds": edited.audio.duration, "steps": sampling.steps, "seed": sampling.seed,
                                          "from": from ?? NSNull(), "strength": from.map { _ in strength ?? 0.5 } ?? NSNull(),
                                          "shared_noise": from != nil || (sharedNoise ?? true)]
            let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}

/// `WORD=FACTOR`, e.g. `rain=2` or `dog=-0.5`.
struct WordWeight: ExpressibleByArgument {
    let word: String
    let factor: Float

    init?(argument: String) {
        guard let equals = argument.lastIndex(of: "="), let factor = Float(argument[argument.index(after: equals)...]),
              factor.isFinite, equals != argument.startIndex else { return nil }
        word = String(argument[..<equals])
        self.factor = factor
    }
}
