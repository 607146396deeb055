import AudioDSP
import Compute
import Editing
import FileOutput
import Foundation
import Pictures
import Pipeline

/// The files one run writes: checked together before any work (each names a folder that exists
/// and can be written, none is an input, no two are the same file, audio has a known extension),
/// written together after it, each atomically. The command line, batch jobs and the server all
/// write through it, so a run's outputs behave the same wherever it was asked for.
public struct RunOutputs: Sendable {
    public var audio: URL?
    public var sourceAudio: URL?
    public var spectrogram: URL?
    public var mel: URL?
    /// The [0, 1] spectrogram image as `.npy` (``SpectrogramAnalysis``).
    public var image: URL?
    public var latents: URL?
    /// A folder for per-word attention maps (created if missing).
    public var maps: URL?
    /// A saved inversion (``Inversion/write(to:pipeline:)``).
    public var inversion: URL?
    /// Files read by the run, never to be overwritten.
    public let inputs: [URL]
    /// Whether ``PeakGuard`` scales audio that would clip.
    public var guardsPeaks = true

    /// Checks the outputs.
    /// - Throws: ``OutputError`` or ``AudioFileError/unsupportedExtension(path:)`` for an audio
    ///   output whose extension names no container; an error of ``AtomicFile`` for an output
    ///   that is one of `inputs`.
    public init(audio: URL? = nil, sourceAudio: URL? = nil, spectrogram: URL? = nil, mel: URL? = nil, image: URL? = nil,
                latents: URL? = nil, maps: URL? = nil, inversion: URL? = nil, inputs: [URL]) throws {
        self.audio = audio?.standardizedFileURL
        self.sourceAudio = sourceAudio?.standardizedFileURL
        self.spectrogram = spectrogram?.standardizedFileURL
        self.mel = mel?.standardizedFileURL
        self.image = image?.standardizedFileURL
        self.latents = latents?.standardizedFileURL
        self.maps = maps?.standardizedFileURL
        self.inversion = inversion?.standardizedFileURL
        self.inputs = inputs
        try check()
    }

    private var files: [URL] { [audio, sourceAudio, spectrogram, mel, image, latents, inversion].compactMap { $0 } }

    private func check() throws {
        for url in [audio, sourceAudio].compactMap({ $0 }) where AudioContainer(path: url) == nil {
            throw Self.isFolder(url) ? OutputError.isFolder(path: url.path) : AudioFileError.unsupportedExtension(path: url.path)
        }
        var seen: Set<PathKey> = []
        for url in files {
            guard seen.insert(PathKey(url.resolvingSymlinksInPath().path)).inserted else { throw OutputError.namedTwice(path: url.path) }
            try AtomicFile.ensure(url, isNotOneOf: inputs)
            guard !Self.isFolder(url) else { throw OutputError.isFolder(path: url.path) }
            try Self.checkWritable(AtomicFile.destination(of: url).deletingLastPathComponent(), for: url)
        }
        if let maps { try checkMaps(maps) }
    }

    /// The maps folder: not a file, made where it may be (the nearest folder that exists above
    /// it, or itself, writable), and holding none of the other outputs under a name the maps take
    /// (`maps.npy`, `NN-word.png`).
    private func checkMaps(_ maps: URL) throws {
        let resolved = PathKey(maps.resolvingSymlinksInPath().path)
        guard !FileManager.default.fileExists(atPath: maps.path) || Self.isFolder(maps),
              !files.contains(where: { PathKey($0.resolvingSymlinksInPath().path) == resolved }) else { throw OutputError.notAFolder(path: maps.path) }
        for url in files where PathKey(url.deletingLastPathComponent().resolvingSymlinksInPath().path) == resolved && AttentionMapFiles.isMapFile(url) {
            throw OutputError.namedTwice(path: url.path)
        }
        var existing = maps
        while !FileManager.default.fileExists(atPath: existing.path), existing.path != "/" { existing.deleteLastPathComponent() }
        guard Self.isFolder(existing) else { throw OutputError.cannotCreateFolder(path: maps.path) }
        try Self.checkWritable(existing, for: maps)
    }

    private static func isFolder(_ url: URL) -> Bool {
        var isFolder: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &isFolder) && isFolder.boolValue
    }

    /// Refuses `output` unless `folder`, where it is written, exists and can be written.
    private static func checkWritable(_ folder: URL, for output: URL) throws {
        guard isFolder(folder) else { throw OutputError.missingFolder(path: output.path, folder: folder.path) }
        guard FileManager.default.isWritableFile(atPath: folder.path) else {
            throw OutputError.unwritableFolder(path: output.path, folder: folder.path)
        }
    }

    /// Writes `result` (and the source prompt's audio) to the outputs that were asked for and
    /// returns their record; `warn` hears what the peak guard did.
    public func write(_ result: GenerationResult, source: GenerationResult? = nil,
                      warn: (String) -> Void) throws -> RunRecord.Files {
        try AtomicFile.committingTogether { try writeEach(result, source: source, warn: warn) }
    }

    private func writeEach(_ result: GenerationResult, source: GenerationResult?, warn: (String) -> Void) throws -> RunRecord.Files {
        var files = RunRecord.Files()
        if let audio {
            files.peakGainDecibels = try writeAudio(result.audio, to: audio, warn: warn)
            files.audio = audio.path
        }
        if let sourceAudio, let source {
            files.sourcePeakGainDecibels = try writeAudio(source.audio, to: sourceAudio, warn: warn)
            files.sourceAudio = sourceAudio.path
        }
        if let spectrogram {
            try SpectrogramPicture.render(result.image, timeAxis: true).writePNG(to: spectrogram)
            files.spectrogram = spectrogram.path
        }
        if let mel {
            try NumPyFile.write(result.logMel, to: mel)
            files.mel = mel.path
        }
        if let latents {
            try NumPyFile.write(result.latents, to: latents)
            files.latents = latents.path
        }
        return files
    }

    /// Writes `inversion` to ``inversion`` when it was asked for; returns its record.
    public func write(_ inversion: Inversion, pipeline: AuffusionPipeline) throws -> RunRecord.Files {
        guard let url = self.inversion else { return RunRecord.Files() }
        try AtomicFile.ensure(url, isNotOneOf: inputs)
        try inversion.write(to: url, pipeline: pipeline)
        var files = RunRecord.Files()
        files.inversion = url.path
        return files
    }

    /// Writes `audio` through the peak guard (when on); returns the gain it applied (dB).
    public func writeAudio(_ audio: AudioBuffer, to url: URL, warn: (String) -> Void) throws -> Double {
        let (guarded, gain) = guardsPeaks ? PeakGuard().apply(to: audio) : (audio, 0)
        if gain < 0 {
            warn(String(format: "%@ would clip; the peak guard scaled it by %.2f dB to a peak of -0.1 dBFS",
                        url.lastPathComponent, gain))
        }
        try AudioFile.write(guarded, to: url, protecting: inputs)
        return gain
    }
}
