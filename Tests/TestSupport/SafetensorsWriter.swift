import Compute
import Foundation

extension Fixtures {
    /// Writes `tensors` as a float32 safetensors file (header keys sorted, data in key order):
    /// small checkpoints that tests build or edit on the fly.
    public static func writeSafetensors(_ tensors: [String: Tensor], to url: URL) throws {
        var header: [String: Any] = [:]
        var payload = Data()
        for (key, tensor) in tensors.sorted(by: { $0.key < $1.key }) {
            let start = payload.count
            tensor.scalars.withUnsafeBytes { payload.append(contentsOf: $0) }
            header[key] = ["dtype": "F32", "shape": tensor.shape, "data_offsets": [start, payload.count]]
        }
        let json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        var file = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { file.append(contentsOf: $0) }
        file.append(json)
        file.append(payload)
        try file.write(to: url)
    }
}
