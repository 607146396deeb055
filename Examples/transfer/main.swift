// transfer: restyle a clip with a text prompt (SDEdit), the library way.
//
//     swift run -c release transfer MODEL_DIR IN.wav "a cat meowing" OUT.wav [STRENGTH] [STEPS]
//
// Encodes the clip (posterior mean), noises it to the strength's timestep, denoises it under the
// prompt and writes the result, trimmed to the clip. See docs/editing.md.
import AudioDSP
import Editing
import Foundation
import Pipeline

func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}

let arguments = CommandLine.arguments.dropFirst().map { $0 }
guard (4...6).contains(arguments.count) else {
    fail("usage: transfer MODEL_DIR IN.wav PROMPT OUT.wav [STRENGTH=0.5] [STEPS=50]", code: 2)
}
let (modelPath, inputPath, prompt, outputPath) = (arguments[0], arguments[1], arguments[2], arguments[3])
guard let strength = Double(arguments.count > 4 ? arguments[4] : "0.5"),
      let steps = Int(arguments.count > 5 ? arguments[5] : "50") else {
    fail("transfer: STRENGTH must be a number and STEPS a whole number", code: 2)
}
guard inputPath != outputPath else { fail("transfer: refusing to overwrite the input", code: 2) }

do {
    let pipeline = try AuffusionPipeline(folder: URL(fileURLWithPath: modelPath))
    var posterior: NoiseSource? = nil
    let clip = try ClipLatents(encoding: try AudioFile.read(URL(fileURLWithPath: inputPath)), pipeline: pipeline,
                               posteriorNoise: &posterior)
    if clip.wasCropped { print("note: the clip is longer than the canvas; its first 10.24 s are restyled") }
    var request = GenerationRequest(prompt: prompt)
    request.stepCount = steps
    var noise = NoiseSource(seed: 42)
    let result = try StyleTransfer(strength: strength).run(on: clip, request: request, pipeline: pipeline, noise: &noise) {
        print("step \($0.step)/\($0.total)")
        return true
    }
    // The output stage: Griffin-Lim's audio may pass full scale, which integer samples would clip.
    let (audio, _) = PeakGuard().apply(to: result.audio)
    try AudioFile.write(audio, to: URL(fileURLWithPath: outputPath))
    print(String(format: "wrote %.2f s to %@", result.audio.duration, outputPath))
} catch {
    fail("transfer: \(error)", code: 1)
}
