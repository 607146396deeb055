import ArgumentParser
import Foundation
import Toolkit

/// The files a run writes: its audio (`-o`), the picture and the log-mel beside it, and the peak
/// guard. A command that makes many outputs (`--output-dir`) takes none of the single-file names.
struct OutputOptions: ParsableArguments {
    @Option(name: .shortAndLong, help: "Output audio file (.wav, .flac, .ogg, .aiff); never an input.")
    var output: String?

    @Option(help: "Also write the spectrogram picture of the result (PNG).")
    var spectrogram: String?

    @Option(name: .customLong("save-mel"), help: "Also write the log-mel that went into the vocoder (.npy, mels × frames).")
    var saveMel: String?

    @OptionGroup var peaks: PeakOptions

    /// Whether a single file is named.
    var namesFiles: Bool { output != nil || spectrogram != nil || saveMel != nil }

    /// These outputs checked (paths as typed, relative to the working folder), with the run's
    /// other files; `audio` stands in for `-o` when it is absent.
    func outputs(audio: String? = nil, sourceAudio: String? = nil, latents: String? = nil, maps: String? = nil,
                 inputs: [URL]) throws -> RunOutputs {
        func url(_ path: String?) -> URL? { path.map { URL(fileURLWithPath: $0) } }
        var outputs = try RunOutputs(audio: url(output ?? audio), sourceAudio: url(sourceAudio), spectrogram: url(spectrogram),
                                     mel: url(saveMel), latents: url(latents), maps: url(maps), inputs: inputs)
        outputs.guardsPeaks = peaks.peakGuard
        return outputs
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
          help: "Scale generated audio that would clip so its peak sits at -0.1 dBFS, and say so (default on). An edit written into the input's own file has its own limiter instead (docs/cli.md).")
    var peakGuard = true
}
