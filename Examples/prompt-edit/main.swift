// prompt-edit: change a word of a prompt while keeping the sound's structure (prompt-to-prompt
// word swap), generated from noise or applied to an existing clip, the library way.
//
//     swift run -c release prompt-edit MODEL_DIR "a dog barking" "a cat barking" OUT.wav [STEPS] [IN.wav [STRENGTH]]
//
// Both prompts denoise side by side; the edited prompt takes the source's cross-attention for the
// first 80 % of the steps and its self-attention for the first 40 %. With IN.wav, both start from
// the clip's latents noised to STRENGTH (SDEdit). See docs/editing.md.
import AudioDSP
import Editing
import Foundation
import Pipeline

func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}

let arguments = CommandLine.arguments.dropFirst().map { $0 }
guard (4...7).contains(arguments.count) else {
    fail("usage: prompt-edit MODEL_DIR SOURCE TARGET OUT.wav [STEPS=50] [IN.wav [STRENGTH=0.6]]", code: 2)
}
let (modelPath, source, target, outputPath) = (arguments[0], arguments[1], arguments[2], arguments[3])
let inputPath = arguments.count > 5 ? arguments[5] : nil
guard let steps = Int(arguments.count > 4 ? arguments[4] : "50"),
      let strength = Double(arguments.count > 6 ? arguments[6] : "0.6") else {
    fail("prompt-edit: STEPS must be a whole number and STRENGTH a number", code: 2)
}
guard inputPath != outputPath else { fail("prompt-edit: refusing to overwrite the input", code: 2) }

do {
    let pipeline = try AuffusionPipeline(folder: URL(fileURLWithPath: modelPath))
    let edit = PromptEdit(alignment: .swap, schedule: ReplaceSchedule(cross: 0...0.8, self: 0...0.4))
    var request = GenerationRequest(prompt: source)
    request.stepCount = steps
    var noise = NoiseSource(seed: 42)
    let report = { (progress: DenoiseProgress) -> Bool in print("step \(progress.step)/\(progress.total)"); return true }
    let result: PromptToPromptResult
    if let inputPath {
        var posterior: NoiseSource? = nil
        let clip = try ClipLatents(encoding: try AudioFile.read(URL(fileURLWithPath: inputPath)), pipeline: pipeline,
                                   posteriorNoise: &posterior)
        result = try pipeline.promptToPrompt([source, target], edit: edit, on: clip, strength: strength, request: request,
                                             noise: &noise, progress: report)
    } else {
        let controller = try edit.makeController(prompts: [source, target], tokenizer: pipeline.tokenizer, steps: steps,
                                                 layersPerEvaluation: pipeline.unetConfiguration.attentionLayerCount)
        result = try pipeline.promptToPrompt([source, target], request: request, noise: &noise, initialNoise: .shared,
                                             controller: controller, progress: report)
    }
    guard let edited = result.outputs.last else { fail("prompt-edit: no output", code: 1) }
    // The output stage: Griffin-Lim's audio may pass full scale, which integer samples would clip.
    let (audio, _) = PeakGuard().apply(to: edited.audio)
    try AudioFile.write(audio, to: URL(fileURLWithPath: outputPath))
    print(String(format: "wrote %.2f s of \"%@\" to %@", edited.audio.duration, target, outputPath))
} catch {
    fail("prompt-edit: \(error)", code: 1)
}
