import ArgumentParser
import AudioDSP
import Compute
import Editing
import Foundation
import Pipeline

/// The options `transfer` and `inpaint` share with `generate`, and the steps around an edit of a
/// clip: reading and encoding the input, writing the outputs without ever overwriting the input.
struct ClipEditOptions: ParsableArguments {
    @OptionGroup var model: ModelOptions

    @OptionGroup var sampling: SamplingOptions

    @Option(name: .shortAndLong, help: "Output audio file (.wav, .flac, .ogg, .aiff); never the input.")
    var output: String

    @Option(help: "What to steer away from.")
    var negative: String?

    @Option(help: "The Gaussian tensor added to the clip's latents, as .npy (1×4×h×w), instead of seeded noise.")
    var noise: String?

    @Flag(name: .customLong("sample-posterior"), help: "Sample the clip's VAE posterior instead of taking its mean.")
    var samplePosterior = false

    @Option(help: "Also write the spectrogram picture of the result (PNG).")
    var spectrogram: String?

    @Option(name: .customLong("save-mel"), help: "Also write the log-mel that went into the vocoder (.npy).")
    var saveMel: String?

    func validate() throws {
        if noise != nil && sampling.seed != 0 { throw ValidationError("use either --seed or --noise") }
    }

    /// The request for `prompt` with these options.
    func request(prompt: String) -> GenerationRequest {
        var request = GenerationRequest(prompt: prompt)
        request.negativePrompt = negative
        request.stepCount = sampling.steps
        request.guidanceScale = sampling.guidance
        request.scheduler = sampling.scheduler?.kind
        return request
    }

    /// Checks the output paths against `input`, loads the model and encodes the clip; returns the
    /// pipeline, the clip and the noise source (after any posterior draw).
    func prepare(input: String) throws -> (AuffusionPipeline, ClipLatents, NoiseSource) {
        let inputURL = URL(fileURLWithPath: input)
        guard AudioContainer(path: URL(fileURLWithPath: output)) != nil else {
            throw AudioFileError.unsupportedExtension(path: output)
        }
        let inputs = [inputURL] + [noise].compactMap { $0.map(URL.init(fileURLWithPath:)) }
        for path in [output, spectrogram, saveMel].compactMap({ $0 }) {
            try AtomicFile.ensure(URL(fileURLWithPath: path), isNotOneOf: inputs)
        }
        let audio = try AudioFile.read(inputURL)
        var source = try noise.map { try NoiseSource(tensors: [try NumPyFile.read(URL(fileURLWithPath: $0))]) }
            ?? NoiseSource(seed: sampling.seed)
        let pipeline = try model.load(quiet: sampling.silent)
        // With --noise the file is the added noise; a posterior sample then draws from the seed.
        var posterior: NoiseSource? = samplePosterior ? (noise == nil ? source : NoiseSource(seed: sampling.seed)) : nil
        let clip = try encodeClip(audio, named: input, pipeline: pipeline, posteriorNoise: &posterior)
        if noise == nil, let posterior { source = posterior }
        return (pipeline, clip, source)
    }

    /// Writes the audio and the optional outputs, and the JSON summary with `fields` added.
    func write(_ audio: AudioBuffer, result: GenerationResult, input: String, fields: [String: Any]) throws {
        let inputs = [input, noise].compactMap { $0.map(URL.init(fileURLWithPath:)) }
        try AudioFile.write(audio, to: URL(fileURLWithPath: output), protecting: inputs)
        if let spectrogram {
            try SpectrogramPicture.render(result.image, timeAxis: true).writePNG(to: URL(fileURLWithPath: spectrogram))
        }
        if let saveMel { try NumPyFile.write(result.logMel, to: URL(fileURLWithPath: saveMel)) }
        if result.droppedTokenCount > 0 {
            FileHandle.standardError.write(Data("warning: the prompt is longer than 75 tokens; the last \(result.droppedTokenCount) were dropped\n".utf8))
        }
        guard sampling.json else { return }
        var summary: [String: Any] = ["input": input, "output": output, "seconds": audio.duration,
                                      "sample_rate": audio.sampleRate, "steps": sampling.steps, "seed": sampling.seed,
                                      "dropped_tokens": result.droppedTokenCount]
        summary.merge(fields) { _, new in new }
        let data = try JSONSerialization.data(withJSONObject: summary, options: [.sortedKeys])
        print(String(decoding: data, as: UTF8.self))
    }

    /// A progress handler printing to stderr unless quiet; call `finish()` on the reporter after.
    func reporter() -> ProgressReporter { ProgressReporter(label: "step", quiet: sampling.silent) }
}

/// Encodes `audio` (read from `name`) on the model's canvas (10.24 s for Auffusion's), warning
/// on stderr when it is longer than the canvas and cropped.
func encodeClip(_ audio: AudioBuffer, named name: String, pipeline: AuffusionPipeline,
                posteriorNoise: inout NoiseSource?) throws -> ClipLatents {
    let clip = try ClipLatents(encoding: audio, pipeline: pipeline, posteriorNoise: &posteriorNoise)
    if clip.wasCropped {
        let seconds = Double(clip.canvasFrames) / pipeline.melParameters.framesPerSecond
        FileHandle.standardError.write(Data("warning: \(name) is longer than the \(seconds) s canvas; only its first \(seconds) s are edited\n".utf8))
    }
    return clip
}
