import Compute
import Foundation
import Weights

/// Reading a diffusers/transformers model sub-folder: its `config.json` and its weight file,
/// whichever of the published names is present.
public enum ModelFolder {
    /// Decodes and validates `folder/config.json` (or another file name) as strict JSON
    /// (``StrictJSON``).
    /// - Throws: ``ModelError/unreadableConfiguration(path:reason:)`` naming the file and the
    ///   problem: missing, not a regular file, not JSON, a value of the wrong type, or a field
    ///   out of range.
    public static func configuration<Configuration: CheckedConfiguration>(_ type: Configuration.Type, in folder: URL,
                                                                          file: String = "config.json") throws -> Configuration {
        let url = folder.appendingPathComponent(file)
        do {
            let configuration = try StrictJSON.decode(type, contentsOf: url)
            try configuration.validate()
            return configuration
        } catch {
            throw ModelError.unreadableConfiguration(path: url.path, reason: "\(error)")
        }
    }

    /// The first of `names` that exists in `folder`: how every model finds its weight file
    /// among the names its library publishes (each model names what it looked for when none is there).
    public static func firstFile(named names: [String], in folder: URL) -> URL? {
        names.map { folder.appendingPathComponent($0) }.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// diffusers' weight file names for a model folder (`ModelMixin.from_pretrained`):
    /// `diffusion_pytorch_model[.variant].{safetensors,bin}`, safetensors first; without a
    /// variant, full precision before `fp16`; then the sharded indexes.
    public static func diffusersWeightNames(variant: String? = nil) -> [String] {
        let variants = variant.map { [".\($0)"] } ?? ["", ".fp16"]
        let single = variants.flatMap { suffix in ["safetensors", "bin"].map { "diffusion_pytorch_model\(suffix).\($0)" } }
        return single + ["safetensors", "bin"].map { "diffusion_pytorch_model.\($0).index.json" }
    }
}
