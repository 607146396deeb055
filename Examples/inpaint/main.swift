// inpaint: regenerate a time range of a clip from a text prompt, the library way.
//
//     swift run -c release inpaint MODEL_DIR IN.wav "a siren wailing" OUT.wav START-END [STEPS]
//
// Encodes the clip (posterior mean), maps the range in seconds to latent cells (rounding
// outward), denoises from noise while keeping the clip's latents outside the mask, and splices
// the result into the clip with 20 ms equal-power crossfades. See docs/editing.md.
import AudioDSP
import Editing
import Foundation
import Pipeline

func fail(_ message: String, code: Int32) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(code)
}

let arguments = CommandLine.arguments.dropFirst().map { $0 }
guard (5...6).contains(arguments.count) else {
    fail("usage: inpaint MODEL_DIR IN.wav PROMPT OUT.wav START-END [STEPS=50]", code: 2)
}
let (modelPath, inputPath, prompt, outputPath) = (arguments[0], arguments[1], arguments[2], arguments[3])
let bounds = arguments[4].split(separator: "-").compactMap { Double($0) }
guard bounds.count == 2, bounds[0] < bounds[1], let steps = Int(arguments.count > 5 ? arguments[5] : "50") else {
    fail("inpaint: the range is START-END in seconds (START < END) and STEPS a whole number", code: 2)
}
guard inputPath != outputPath else { fail("inpaint: refusing to overwrite the input", code: 2) }

do {
    let pipeline = try AuffusionPipeline(folder: URL(fileURLWithPath: modelPath))
    var posterior: NoiseSource? = nil
    let clip = try ClipLatents(encoding: try AudioFile.read(URL(fileURLWithPath: inputPath)), pipeline: pipeline,
                               posteriorNoise: &posterior)
    let mask = try EditMask(ranges: [bounds[0]..<bounds[1]], clipDuration: clip.duration,
                            maximumFrequency: pipeline.melParameters.maximumFrequency)
    var request = GenerationRequest(prompt: prompt)
    request.stepCount = steps
    var noise = NoiseSource(seed: 42)
    let result = try Inpainting(mask: mask).run(on: clip, request: request, pipeline: pipeline, noise: &noise) {
        print("step \($0.step)/\($0.total)")
        return true
    }
    // The output stage: Griffin-Lim's audio may pass full scale, which integer samples would clip.
    let (audio, _) = PeakGuard().apply(to: result.audio)
    try AudioFile.write(audio, to: URL(fileURLWithPath: outputPath))
    let kept = zip(result.audio.channels[0], clip.audio.channels[0]).filter { $0 == $1 }.count
    print(String(format: "wrote %.2f s to %@; %d of %d samples kept from the clip", result.audio.duration, outputPath,
                 kept, clip.audio.frameCount))
} catch {
    fail("inpaint: \(error)", code: 1)
}
