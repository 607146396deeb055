import Foundation
import Weights

extension FuzzTarget {
    /// Reads every tensor of a store, so lazy readers decode everything the header promises.
    static func readAll(_ store: some WeightStore) {
        for key in store.keys { _ = try? store.tensor(key) }
    }

    /// A safetensors file (header JSON, offsets, dtypes).
    static let safetensors = FuzzTarget(name: "safetensors", summary: "safetensors files") { input in
        guard let store = try? Safetensors(data: input) else { return }
        readAll(store)
    }

    /// A PyTorch checkpoint: torch.save's zip (with data.pkl and storages) or the legacy format.
    static let torch = FuzzTarget(name: "torch", summary: "torch.save checkpoints (zip and legacy)") { input in
        guard let store = try? TorchCheckpoint(data: input) else { return }
        readAll(store)
    }

    /// The restricted unpickler alone: the input is the `data.pkl` of a stored zip whose other
    /// entries are empty, so every input reaches the pickle machine.
    static let pickle = FuzzTarget(name: "pickle", summary: "data.pkl of a torch checkpoint") { input in
        guard let store = try? TorchCheckpoint(data: StoredZip.archive([("archive/data.pkl", [UInt8](input))])) else { return }
        readAll(store)
    }
}

/// The smallest zip writer that torch's reader accepts: stored entries with their CRC-32.
enum StoredZip {
    static func archive(_ entries: [(name: String, data: [UInt8])]) -> Data {
        func le16(_ value: Int) -> [UInt8] { [UInt8(value & 0xFF), UInt8((value >> 8) & 0xFF)] }
        func le32(_ value: Int) -> [UInt8] { le16(value & 0xFFFF) + le16((value >> 16) & 0xFFFF) }
        var bytes: [UInt8] = [], directory: [UInt8] = []
        for (name, data) in entries {
            let header = le16(20) + le16(0) + le16(0) + le16(0) + le16(0) + le32(Int(crc32(data)))
                + le32(data.count) + le32(data.count) + le16(name.utf8.count) + le16(0)
            directory += le32(0x0201_4B50) + le16(20) + header + le16(0) + le16(0) + le16(0) + le32(0)
                + le32(bytes.count) + Array(name.utf8)
            bytes += le32(0x0403_4B50) + header + Array(name.utf8) + data
        }
        let start = bytes.count
        bytes += directory + le32(0x0605_4B50) + le16(0) + le16(0) + le16(entries.count) + le16(entries.count)
            + le32(directory.count) + le32(start) + le16(0)
        return Data(bytes)
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
        }
        return ~crc
    }
}
