import AudioDSP
import Compute
import Editing
import Foundation
import Models
import Pictures
import Pipeline

/// Writes the per-word cross-attention maps of one prompt of a run: `maps.npy`
/// (`[tokens, h, w]`, BOS and EOS included) and one `NN-word.png` heatmap per word over the
/// spectrogram picture.
enum AttentionMapFiles {
    /// Writes the files into `folder` (created if missing); returns the token count and the pictures.
    static func write(store: AttentionStore, prompt: String, index: Int, tokenizer: CLIPTokenizer,
                      image: SpectrogramImage, resolution: AttentionResolution,
                      to folder: URL) throws -> (tokens: Int, pictures: [String]) {
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw CLIError("cannot create the folder \(folder.path)")
        }
        let maps = try CrossAttentionMaps(store: store, resolution: resolution, prompt: index)
        let tokens = PromptTokens(prompt, tokenizer: tokenizer)
        let tokenCount = min(tokens.ids.count, PromptTokens.keyCount)
        try NumPyFile.write(maps.maps.sliced(axis: 0, 0..<tokenCount), to: folder.appendingPathComponent("maps.npy"))
        var pictures: [String] = []
        for (position, word) in tokens.words.enumerated() {
            let positions = word.tokenPositions.filter { $0 < PromptTokens.keyCount }
            guard !positions.isEmpty else { continue }
            let name = String(format: "%02d-", position) + fileName(word.text) + ".png"
            try AttentionHeatmap.render(maps.map(ofTokens: positions), over: image).writePNG(to: folder.appendingPathComponent(name))
            pictures.append(name)
        }
        return (tokenCount, pictures)
    }

    /// Checks, before a run, that `pipeline` stores cross-attention maps at `resolution` for a
    /// canvas of `canvasFrames` frames; `option` names the command-line option in the error.
    static func checkStored(_ resolution: AttentionResolution, pipeline: AuffusionPipeline, canvasFrames: Int,
                            option: String) throws {
        let latent = pipeline.latentShape(canvasFrames: canvasFrames)
        let stored = AttentionResolution.stored(latentHeight: latent[2], latentWidth: latent[3],
                                                levels: pipeline.unet.configuration.blockOutChannels.count)
        guard stored.contains(resolution) else {
            throw CLIError("\(option) \(resolution) is not stored for this model; use one of \(stored.map(\.description).joined(separator: ", "))")
        }
    }

    /// `word` with every character but letters, digits, `-` and `_` replaced by `_`.
    static func fileName(_ word: String) -> String {
        String(word.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" })
    }
}
