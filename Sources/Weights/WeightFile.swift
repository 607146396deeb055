import Compute
import Foundation

/// Opens a weight file with the right reader, chosen by its content (then its extension).
///
/// - `PK\3\4` (a zip archive) or a pickle: ``TorchCheckpoint`` (`.bin`, `.pt`, `.pth`, `.ckpt`);
/// - an 8-byte length followed by `{`: ``Safetensors``;
/// - `*.index.json`: the shards its `weight_map` names, as one ``ShardedWeightStore``
///   (the transformers/diffusers sharded-checkpoint index).
///
/// ```swift
/// let text = try WeightFile.open(folder.appending(path: "text_encoder/model.safetensors"))
/// let unet = try WeightFile.open(folder.appending(path: "unet/diffusion_pytorch_model.bin"))
/// ```
public enum WeightFile {
    /// The readers ``open(_:keyPath:)`` can pick.
    public enum Format: String, Sendable {
        case safetensors, torchCheckpoint, shardIndex
    }

    /// Opens `url` as a ``WeightStore``.
    /// - Parameter keyPath: for PyTorch checkpoints that wrap their state dict; see ``TorchCheckpoint``.
    /// - Throws: any ``WeightsError``.
    public static func open(_ url: URL, keyPath: [String]? = nil) throws -> any WeightStore {
        switch try format(of: url) {
        case .safetensors: try Safetensors(url: url)
        case .torchCheckpoint: try TorchCheckpoint(url: url, keyPath: keyPath)
        case .shardIndex: try openShards(index: url, keyPath: keyPath)
        }
    }

    /// Which reader `url` needs, judged from its first bytes, then its name.
    /// - Throws: ``WeightsError/unreadable(path:reason:)`` or ``WeightsError/corrupt(path:reason:)``.
    public static func format(of url: URL) throws -> Format {
        if url.lastPathComponent.hasSuffix(".index.json") { return .shardIndex }
        let head: [UInt8]
        do {
            let handle = try FileHandle(forReadingFrom: url)
            defer { try? handle.close() }
            head = Array(try handle.read(upToCount: 9) ?? Data())
        } catch {
            throw WeightsError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
        // Safetensors first: its little-endian header length may well start with 0x80. A zip
        // has its method field, and a legacy torch pickle its magic number, at byte 8.
        if head.count == 9, head[8] == UInt8(ascii: "{") { return .safetensors }
        if head.starts(with: [0x50, 0x4B]) || head.first == 0x80 { return .torchCheckpoint }
        switch url.pathExtension.lowercased() {
        case "safetensors": return .safetensors
        case "bin", "pt", "pth", "ckpt": return .torchCheckpoint
        default: throw WeightsError.corrupt(path: url.path, reason: "not a safetensors file or a PyTorch checkpoint")
        }
    }

    private struct ShardIndex: Decodable {
        let weightMap: [String: String]
        enum CodingKeys: String, CodingKey { case weightMap = "weight_map" }
    }

    /// Opens the shards listed by a `*.index.json` and checks that each key is where the index says.
    private static func openShards(index url: URL, keyPath: [String]?) throws -> ShardedWeightStore {
        let index: ShardIndex
        do {
            index = try StrictJSON.decode(ShardIndex.self, contentsOf: url)
        } catch {
            throw WeightsError.corrupt(path: url.path, reason: "not a sharded-checkpoint index with a weight_map (\(error))")
        }
        let folder = url.deletingLastPathComponent()
        let names = Set(index.weightMap.values).sorted()
        for name in names where name.contains("/") || name.hasPrefix(".") {
            throw WeightsError.corrupt(path: url.path, reason: "shard name '\(name)' leaves the folder")
        }
        let shards = try names.map { try open(folder.appendingPathComponent($0), keyPath: keyPath) }
        let store = try ShardedWeightStore(shards, names: names)
        let missing = index.weightMap.keys.filter { !store.contains($0) }.sorted()
        guard missing.isEmpty else {
            throw WeightsError.keyMismatch(missing: missing, unexpected: [], misShaped: [])
        }
        return store
    }
}
