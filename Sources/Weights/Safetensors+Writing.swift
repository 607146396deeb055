import Compute
import FileOutput
import Foundation

extension Safetensors {
    /// The bytes of a safetensors file holding `tensors` as float32 and `metadata` as its
    /// `"__metadata__"` strings, in the layout ``init(url:)`` reads and huggingface/safetensors
    /// writes (safetensors/src/tensor.rs, `serialize`): names sorted, data in that order, the
    /// header padded with spaces to a multiple of 8 bytes.
    public static func encode(_ tensors: [String: Tensor], metadata: [String: String] = [:]) throws -> Data {
        var header: [String: Any] = metadata.isEmpty ? [:] : ["__metadata__": metadata]
        var payload = Data()
        for (name, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            let begin = payload.count
            tensor.scalars.withUnsafeBytes { payload.append(contentsOf: $0) }
            header[name] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [begin, payload.count]]
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        json.append(contentsOf: [UInt8](repeating: UInt8(ascii: " "), count: (8 - json.count % 8) % 8))
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(payload)
        return file
    }

    /// Writes ``encode(_:metadata:)`` to `url` atomically (``AtomicFile``).
    /// - Throws: `AtomicFile.Error` when the file cannot be written.
    public static func write(_ tensors: [String: Tensor], metadata: [String: String] = [:], to url: URL) throws {
        try AtomicFile.write(try encode(tensors, metadata: metadata), to: url)
    }
}
