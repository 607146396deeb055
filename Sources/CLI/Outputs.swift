import ArgumentParser
import Foundation
import Toolkit

extension RunOutputs {
    /// The outputs named on the command line (paths as typed, relative to the working folder).
    init(audio: String?, sourceAudio: String? = nil, spectrogram: String? = nil, mel: String? = nil, latents: String? = nil,
         maps: String? = nil, inputs: [URL], peaks: PeakOptions) throws {
        func url(_ path: String?) -> URL? { path.map { URL(fileURLWithPath: $0) } }
        try self.init(audio: url(audio), sourceAudio: url(sourceAudio), spectrogram: url(spectrogram), mel: url(mel),
                      latents: url(latents), maps: url(maps), inputs: inputs)
        guardsPeaks = peaks.peakGuard
    }
}

extension RunRecord {
    /// Prints the record on stdout when `--json` was given, and warns about a cut prompt.
    func emit(_ report: ReportOptions) throws {
        if let droppedTokens, droppedTokens > 0 {
            report.warn("the prompt is longer than 75 tokens; the last \(droppedTokens) were dropped")
        }
        if report.json { print(try jsonLine()) }
    }
}

/// The peak-guard switch of every command that writes generated audio.
struct PeakOptions: ParsableArguments {
    @Flag(name: .customLong("peak-guard"), inversion: .prefixedNo,
          help: "Scale audio that would clip so its peak sits at -0.1 dBFS, and say so (default on).")
    var peakGuard = true
}
