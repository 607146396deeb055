import AudioDSP
import Compute
import Editing
import FileOutput
import Foundation
import Models
import Pictures
import Pipeline

/// The per-word cross-attention maps of one prompt of a run, as files: `maps.npy`
/// (`[tokens, h, w]`, BOS and EOS included) and one `NN-word.png` heatmap per word over the
/// spectrogram picture. What `auffusion attention` and `--maps` write, and what the server shows.
public enum AttentionMapFiles {
    /// What was written.
    public struct Written: Sendable {
        /// Tokens of the prompt in `maps.npy`.
        public var tokenCount: Int
        /// The heatmap files, by name inside the folder.
        public var pictures: [String]
    }

    /// Writes the files into `folder` (created if missing: a caller that must not leave it behind
    /// makes it first, with ``MadeFolders``).
    /// - Throws: ``OutputError/cannotCreateFolder(path:)``, ``AttentionMapError`` when the run
    ///   stored no maps at `resolution`.
    public static func write(store: AttentionStore, prompt: String, index: Int, tokenizer: CLIPTokenizer,
                             image: SpectrogramImage, resolution: AttentionResolution, to folder: URL) throws -> Written {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw OutputError.cannotCreateFolder(path: folder.path)
        }
        // A folder that holds an earlier run's maps shows this prompt's words only afterwards: its
        // heatmaps (`02-barking.png` beside this run's `01-cat.png`) would read as this prompt's.
        // In any other folder, files named like heatmaps are the user's, and stay.
        let earlier = FileManager.default.fileExists(atPath: folder.appendingPathComponent("maps.npy").path)
            ? ((try? FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)) ?? []).filter {
                isMapFile($0) && $0.lastPathComponent != "maps.npy"
            } : []
        let maps = try CrossAttentionMaps(store: store, resolution: resolution, prompt: index)
        let tokens = PromptTokens(prompt, tokenizer: tokenizer)
        let tokenCount = min(tokens.ids.count, PromptTokens.keyCount)
        try NumPyFile.write(maps.maps.sliced(axis: 0, 0..<tokenCount), to: folder.appendingPathComponent("maps.npy"))
        var pictures: [String] = []
        for (position, word) in tokens.words.enumerated() {
            let positions = word.tokenPositions.filter { $0 < PromptTokens.tokenWindow }
            guard !positions.isEmpty else { continue }
            let name = String(format: "%02d-", position) + fileName(word.text) + ".png"
            try AttentionHeatmap.render(maps.map(ofTokens: positions), over: image).writePNG(to: folder.appendingPathComponent(name))
            pictures.append(name)
        }
        let written = Set(pictures.map(PathKey.init))
        for stale in earlier where !written.contains(PathKey(stale.lastPathComponent)) { AtomicFile.removeWhenCommitted(stale) }
        return Written(tokenCount: tokenCount, pictures: pictures)
    }

    /// The map levels `pipeline` stores for a canvas of `canvasFrames` frames, finest last.
    public static func storedResolutions(pipeline: AuffusionPipeline, canvasFrames: Int) -> [AttentionResolution] {
        let latent = pipeline.latentShape(canvasFrames: canvasFrames)
        return AttentionResolution.stored(latentHeight: latent[2], latentWidth: latent[3],
                                          levels: pipeline.unetConfiguration.blockOutChannels.count)
    }

    /// The level maps are written at unless another is asked for: the stored level 8 latent rows
    /// high (8 × 32 on Auffusion's canvas and on the embedded model's; wider on a wider canvas), or
    /// the finest stored level of a model whose latents are lower.
    public static func defaultResolution(pipeline: AuffusionPipeline, canvasFrames: Int) -> AttentionResolution {
        let stored = storedResolutions(pipeline: pipeline, canvasFrames: canvasFrames)
        return stored.first { $0.height == 8 } ?? stored.first ?? AttentionResolution(height: 8, width: 32)
    }

    /// Why maps cannot be written at the level asked for.
    public enum Failure: Error, Equatable, CustomStringConvertible {
        /// The level is not one the model stores on the run's canvas; `stored` lists those it does.
        case notStored(AttentionResolution, stored: [AttentionResolution])

        public var description: String {
            switch self {
            case .notStored(let resolution, let stored):
                "maps at \(resolution) are not stored for this model; use one of \(stored.map(\.description).joined(separator: ", "))"
            }
        }
    }

    /// The level maps of a canvas of `canvasFrames` frames are written at: `resolution` when the
    /// model stores it there, ``defaultResolution(pipeline:canvasFrames:)`` when it is `nil`.
    /// - Throws: ``Failure/notStored(_:stored:)``.
    public static func level(_ resolution: AttentionResolution?, pipeline: AuffusionPipeline, canvasFrames: Int) throws -> AttentionResolution {
        guard let resolution else { return defaultResolution(pipeline: pipeline, canvasFrames: canvasFrames) }
        let stored = storedResolutions(pipeline: pipeline, canvasFrames: canvasFrames)
        guard stored.contains(resolution) else { throw Failure.notStored(resolution, stored: stored) }
        return resolution
    }

    /// Whether `url` has a name the maps of a folder take: `maps.npy`, or a heatmap `NN-word.png`.
    public static func isMapFile(_ url: URL) -> Bool {
        let name = url.lastPathComponent
        guard name != "maps.npy" else { return true }
        let prefix = Array(name.prefix(3))
        return name.hasSuffix(".png") && prefix.count == 3 && prefix[0].isNumber && prefix[1].isNumber && prefix[2] == "-"
    }

    /// `word` with every character but letters, digits, `-` and `_` replaced by `_`.
    public static func fileName(_ word: String) -> String {
        String(word.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}
