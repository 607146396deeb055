// app-using-auffusion: the smallest app built on the library products alone. It generates half a
// second with the embedded model, restyles it, and writes both, so `make test` proves that an
// outside package can build against the products and run the pipeline and an edit.
//
//     swift run -c release app-using-auffusion OUT_FOLDER
import AudioDSP
import Editing
import Foundation
import Pipeline

guard CommandLine.arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: app-using-auffusion OUT_FOLDER\n".utf8))
    exit(2)
}
let folder = URL(fileURLWithPath: CommandLine.arguments[1])
do {
    let pipeline = try AuffusionPipeline(folder: try EmbeddedModel.defaultFolder())
    var request = GenerationRequest(prompt: "a low pitched beep")
    request.stepCount = 4
    request.duration = 0.5
    var noise = NoiseSource(seed: 3)
    let generated = try pipeline.generate(request, noise: &noise)

    var posterior: NoiseSource? = nil
    let clip = try ClipLatents(encoding: generated.audio, pipeline: pipeline, posteriorNoise: &posterior)
    request.prompt = "white noise"
    let restyled = try StyleTransfer(strength: 0.5).run(on: clip, request: request, pipeline: pipeline, noise: &noise)

    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    // The output stage: Griffin-Lim's audio may pass full scale, which integer samples would clip.
    try AudioFile.write(PeakGuard().apply(to: generated.audio).audio, to: folder.appendingPathComponent("generated.wav"))
    try AudioFile.write(PeakGuard().apply(to: restyled.audio).audio, to: folder.appendingPathComponent("restyled.wav"))
    print(String(format: "app-using-auffusion: wrote generated.wav and restyled.wav (%.2f s each) to %@",
                 restyled.audio.duration, folder.path))
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
