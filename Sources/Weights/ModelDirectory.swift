import Compute
import Foundation

/// The sub-folders of a downloaded Auffusion model, recognised by what they contain.
///
/// Two layouts are published (docs/reference.md §0):
/// - **adapter** (`auffusion/auffusion`, `auffusion/auffusion-full`): `condition_config.json` lists
///   the text conditions, each a `text_encoder_N/` (CLIP with its tokenizer files) and a
///   `condition_adapter_N/`;
/// - **standard** (`auffusion/auffusion-full-no-adapter`, any diffusers Stable-Diffusion-style
///   folder): `text_encoder/` and `tokenizer/`.
/// Both have `unet/`, `vae/`, `scheduler/` and `vocoder/` (whose weights may be absent: the
/// toolkit then resynthesises with Griffin-Lim from the mel parameters in its `config.json`).
public struct ModelDirectory: Sendable, Equatable {
    /// One text condition of the adapter layout (an entry of `condition_config.json`).
    public struct Condition: Sendable, Equatable {
        /// The CLIP text encoder, with `vocab.json` and `merges.txt` beside its weights.
        public var textEncoder: URL
        /// The condition adapter (`config.json` + `condition_adapter.pt`).
        public var adapter: URL
        /// Rows the encoder output is padded or cropped to (`condition_max_length`, 77).
        public var maxLength: Int
    }

    /// How text becomes the U-Net's conditioning.
    public enum TextLayout: Sendable, Equatable {
        case standard(textEncoder: URL, tokenizer: URL)
        case adapter([Condition])
    }

    public let root: URL
    public let unet: URL
    public let vae: URL
    public let scheduler: URL
    public let vocoder: URL
    public let text: TextLayout

    /// Recognises the folder at `root`.
    /// - Throws: ``ModelDirectoryError`` naming everything that is missing at once.
    public init(_ root: URL) throws {
        var isFolder: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root.path, isDirectory: &isFolder), isFolder.boolValue else {
            throw ModelDirectoryError.notAFolder(path: root.path)
        }
        var missing: [String] = []
        func require(_ relative: String) {
            if !FileManager.default.fileExists(atPath: root.appendingPathComponent(relative).path) { missing.append(relative) }
        }
        ["unet/config.json", "vae/config.json", "scheduler/scheduler_config.json"].forEach(require)
        let conditionConfig = root.appendingPathComponent("condition_config.json")
        let text: TextLayout
        if FileManager.default.fileExists(atPath: conditionConfig.path) {
            let conditions = try Self.conditions(in: conditionConfig, root: root)
            for condition in conditions {
                for file in ["config.json", "vocab.json", "merges.txt"] {
                    require(condition.textEncoder.lastPathComponent + "/" + file)
                }
                ["config.json", "condition_adapter.pt"].forEach { require(condition.adapter.lastPathComponent + "/" + $0) }
            }
            text = .adapter(conditions)
        } else {
            ["text_encoder/config.json", "tokenizer/vocab.json", "tokenizer/merges.txt"].forEach(require)
            text = .standard(textEncoder: root.appendingPathComponent("text_encoder"),
                             tokenizer: root.appendingPathComponent("tokenizer"))
        }
        let hasUNet = FileManager.default.fileExists(atPath: root.appendingPathComponent("unet").path)
        if hasUNet && !FileManager.default.fileExists(atPath: root.appendingPathComponent("vocoder").path) {
            throw ModelDirectoryError.notAudioModel(path: root.path)
        }
        require("vocoder/config.json")
        guard missing.isEmpty else { throw ModelDirectoryError.incomplete(path: root.path, missing: missing) }
        self.root = root
        unet = root.appendingPathComponent("unet")
        vae = root.appendingPathComponent("vae")
        scheduler = root.appendingPathComponent("scheduler")
        vocoder = root.appendingPathComponent("vocoder")
        self.text = text
    }

    private struct ConditionEntry: Decodable {
        let text_encoder_name: String
        let condition_adapter_name: String
        let condition_max_length: Int?
    }

    private static func conditions(in url: URL, root: URL) throws -> [Condition] {
        let entries: [ConditionEntry]
        do { entries = try StrictJSON.decode([ConditionEntry].self, contentsOf: url) } catch {
            throw ModelDirectoryError.unreadable(path: url.path, reason: "expected a list of {text_encoder_name, condition_adapter_name, …}")
        }
        guard !entries.isEmpty else { throw ModelDirectoryError.unreadable(path: url.path, reason: "it lists no condition") }
        for entry in entries {
            try FieldBounds.check("condition_max_length", entry.condition_max_length ?? 77, in: 1...4096) {
                ModelDirectoryError.unreadable(path: url.path, reason: $0)
            }
        }
        return entries.map {
            Condition(textEncoder: root.appendingPathComponent($0.text_encoder_name),
                      adapter: root.appendingPathComponent($0.condition_adapter_name),
                      maxLength: $0.condition_max_length ?? 77)
        }
    }
}

/// Why a folder is not a usable Auffusion model.
public enum ModelDirectoryError: Error, Equatable, CustomStringConvertible {
    case notAFolder(path: String)
    case incomplete(path: String, missing: [String])
    case notAudioModel(path: String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notAFolder(let path): "no model folder at \(path)"
        case .incomplete(let path, let missing):
            "the model folder \(path) is incomplete: missing \(missing.joined(separator: ", "))"
        case .notAudioModel(let path):
            "\(path) has a U-Net but no vocoder/: it looks like an image model (Stable Diffusion), not Auffusion"
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        }
    }
}
