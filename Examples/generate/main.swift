// generate: text to audio with the library API, in the fewest lines.
// Usage: generate MODEL_DIR "PROMPT" OUT.wav [STEPS]
import AudioDSP
import Foundation
import Pictures
import Pipeline

let arguments = CommandLine.arguments
guard arguments.count >= 4 else {
    FileHandle.standardError.write(Data("usage: generate MODEL_DIR \"PROMPT\" OUT.wav [STEPS]\n".utf8))
    exit(2)
}
do {
    // Opens a published Auffusion folder; one generation needs one network at a time, so each is
    // loaded when it is needed and released after (the peak is the U-Net's, not all four's).
    let pipeline = try AuffusionPipeline(folder: URL(fileURLWithPath: arguments[1]), residency: .oneAtATime)

    var request = GenerationRequest(prompt: arguments[2])
    request.stepCount = arguments.count > 4 ? Int(arguments[4]) ?? 25 : 25
    request.scheduler = .dpmSolverMultistep
    request.duration = 10

    // The same initial latents as torch.randn(..., generator=torch.Generator().manual_seed(42)).
    var noise = NoiseSource(seed: 42)
    let result = try pipeline.generate(request, noise: &noise) { progress in
        FileHandle.standardError.write(Data("step \(progress.step)/\(progress.total)\n".utf8))
        return true  // return false to cancel
    }

    // The output stage: Griffin-Lim's audio may pass full scale, which integer samples would clip.
    let (audio, _) = PeakGuard().apply(to: result.audio)
    try AudioFile.write(audio, to: URL(fileURLWithPath: arguments[3]))
    let picture = SpectrogramPicture.render(result.image, timeAxis: true)
    try picture.writePNG(to: URL(fileURLWithPath: arguments[3]).deletingPathExtension().appendingPathExtension("png"))
    print("wrote \(arguments[3]): \(result.audio.duration) s at \(Int(result.audio.sampleRate)) Hz")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
