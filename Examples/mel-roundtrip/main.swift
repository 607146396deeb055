// mel-roundtrip: audio file → log-mel → [0, 1] image → log-mel, and the error of the round trip.
// Needs no model weights. Usage: mel-roundtrip IN.wav
import AudioDSP
import Compute
import Foundation

let arguments = CommandLine.arguments
guard arguments.count == 2 else {
    FileHandle.standardError.write(Data("usage: mel-roundtrip IN.wav\n".utf8))
    exit(2)
}
do {
    let buffer = try AudioFile.read(URL(fileURLWithPath: arguments[1]))
    let analyzer = try MelAnalyzer(MelParameters())
    let logMel = try analyzer.logMel(of: buffer)
    let image = SpectrogramImage(logMel: logMel)
    let restored = image.logMel

    // Values below ln(1e-5) or above ln(200) are clamped by the image mapping; compare the rest.
    var worst: Float = 0
    for (original, back) in zip(logMel.scalars, restored.scalars)
    where original > SpectrogramImage.logMinimum && original < SpectrogramImage.logMaximum {
        worst = max(worst, abs(original - back))
    }
    print("clip: \(buffer.channelCount) channel(s), \(buffer.frameCount) samples at \(Int(buffer.sampleRate)) Hz")
    print("log-mel: \(logMel.shape[0]) bands × \(logMel.shape[1]) frames")
    print("image: \(image.height) × \(image.width), round-trip max |Δ| = \(worst)")
} catch {
    FileHandle.standardError.write(Data("error: \(error)\n".utf8))
    exit(1)
}
