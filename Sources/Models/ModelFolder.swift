import Foundation
import Weights

/// Reading a diffusers/transformers model sub-folder: its `config.json` and its weight file,
/// whichever of the published names is present.
public enum ModelFolder {
    /// Decodes `folder/config.json` (or another file name).
    public static func configuration<Configuration: Decodable>(_ type: Configuration.Type, in folder: URL,
                                                               file: String = "config.json") throws -> Configuration {
        let url = folder.appendingPathComponent(file)
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ModelError.unreadableConfiguration(path: url.path, reason: "the file is missing or unreadable")
        }
        do { return try JSONDecoder().decode(type, from: data) } catch {
            throw ModelError.unreadableConfiguration(path: url.path, reason: "\(error)")
        }
    }

    /// The weights of `folder`: `<baseName>.safetensors`, `<baseName>.bin`, or their `.fp16.`
    /// variants, in that order of preference; sharded `*.index.json` checkpoints too.
    public static func weights(in folder: URL, baseName: String) throws -> any WeightStore {
        let candidates = ["safetensors", "bin", "fp16.safetensors", "fp16.bin",
                          "safetensors.index.json", "bin.index.json"].map { "\(baseName).\($0)" }
        for name in candidates {
            let url = folder.appendingPathComponent(name)
            if FileManager.default.fileExists(atPath: url.path) { return try WeightFile.open(url) }
        }
        throw WeightsError.unreadable(path: folder.path,
                                      reason: "no weights found; expected one of \(candidates.joined(separator: ", "))")
    }
}
