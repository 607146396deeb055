import Compute
import Foundation

/// A `.safetensors` file, memory-mapped, whose tensors are widened to Float32 on access.
///
/// Matches the format of huggingface/safetensors (safetensors/src/tensor.rs, `SafeTensors::read_metadata`
/// and `Metadata::validate`): an 8-byte little-endian header length `N`, `N` bytes of JSON
/// mapping each name to `{"dtype", "shape", "data_offsets": [begin, end]}` (offsets relative to the
/// byte after the header), an optional `"__metadata__"` string map, then the data. As in the
/// reference, the header is refused unless it is at most 100 MB, every entry's byte count equals
/// `numel × dtype size`, and the entries, sorted by offset, tile the data exactly: no overlap, no
/// gap, nothing out of bounds, nothing left over.
///
/// ```swift
/// let file = try Safetensors(url: modelFolder.appending(path: "unet/diffusion_pytorch_model.safetensors"))
/// let weight = try file.tensor("conv_in.weight")   // [320, 4, 3, 3]
/// ```
public struct Safetensors: WeightStore, StoredTensorFile {
    /// The reference's limit on the header size (`MAX_HEADER_SIZE`).
    public static let maxHeaderLength = 100_000_000

    /// The file path, or the name given to in-memory data.
    public let path: String
    /// The free-form `__metadata__` strings (e.g. `["format": "pt"]`).
    public let metadata: [String: String]
    /// Tensor names, sorted.
    public let keys: [String]
    let file: ByteStorage
    let entries: [String: StoredTensor]

    /// The element type stored for `key`, before widening.
    public func dtype(of key: String) throws -> ScalarType { try storedDType(of: key) }

    /// Maps and validates the file at `url`.
    /// - Throws: ``WeightsError/unreadable(path:reason:)``, ``WeightsError/corrupt(path:reason:)``
    ///   or ``WeightsError/unsupportedDType(path:dtype:)``.
    public init(url: URL) throws {
        try self.init(storage: ByteStorage(mapping: url))
    }

    /// Validates a safetensors file held in memory; `name` labels it in errors.
    public init(data: Data, name: String = "<memory>") throws {
        try self.init(storage: ByteStorage(data: data, name: name))
    }

    init(storage: ByteStorage) throws {
        file = storage
        path = storage.name
        var cursor = ByteCursor(storage, range: 0..<storage.count, context: "safetensors header length")
        let headerLength = try cursor.uint64()
        guard headerLength <= UInt64(Self.maxHeaderLength) else {
            throw storage.corrupt("header length \(headerLength) exceeds the 100 MB limit")
        }
        guard Int(headerLength) <= cursor.remaining else {
            throw storage.corrupt("header length \(headerLength) but only \(cursor.remaining) bytes follow")
        }
        let headerRange = try cursor.take(Int(headerLength))
        let header = try Self.decodeHeader(storage.bytes(headerRange), file: storage)
        metadata = header.metadata
        entries = try Self.validate(header.entries, dataRange: headerRange.upperBound..<storage.count, file: storage)
        keys = entries.keys.sorted()
    }

    // MARK: - Header

    private struct Header: Decodable {
        struct Entry: Decodable {
            let dtype: String
            let shape: [Int]
            let dataOffsets: [Int]
            enum CodingKeys: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }
        }
        struct Key: CodingKey {
            var stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }
        var entries: [(name: String, entry: Entry)] = []
        var metadata: [String: String] = [:]

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            for key in container.allKeys {
                if key.stringValue == "__metadata__" {
                    metadata = try container.decode([String: String].self, forKey: key)
                } else {
                    entries.append((key.stringValue, try container.decode(Entry.self, forKey: key)))
                }
            }
        }
    }

    /// The header, read as strict JSON (``StrictJSON``): a tensor name or `__metadata__` given
    /// twice is refused (readers disagree on which copy wins), and so is deep nesting.
    private static func decodeHeader(_ bytes: [UInt8], file: ByteStorage) throws -> Header {
        guard bytes.first == UInt8(ascii: "{") else { throw file.corrupt("the header is not a JSON object") }
        do {
            return try StrictJSON.decode(Header.self, from: Data(bytes))
        } catch let error as StrictJSON.Error {
            throw file.corrupt("the header is not valid safetensors JSON (\(error.reason))")
        } catch {
            throw file.corrupt("the header is not valid JSON")
        }
    }

    // MARK: - Validation

    private static func validate(_ header: [(name: String, entry: Header.Entry)], dataRange: Range<Int>,
                                 file: ByteStorage) throws -> [String: StoredTensor] {
        var spans: [(begin: Int, end: Int, name: String)] = []
        var result: [String: StoredTensor] = [:]
        for (name, entry) in header {
            guard let dtype = ScalarType(safetensorsName: entry.dtype) else {
                throw WeightsError.unsupportedDType(path: file.name, dtype: entry.dtype)
            }
            guard entry.dataOffsets.count == 2 else {
                throw file.corrupt("tensor '\(name.abbreviated())': data_offsets must hold two numbers")
            }
            let (begin, end) = (entry.dataOffsets[0], entry.dataOffsets[1])
            guard begin >= 0, begin <= end, end <= dataRange.count else {
                throw file.corrupt("tensor '\(name.abbreviated())': data_offsets [\(begin), \(end)] are outside the \(dataRange.count)-byte data")
            }
            guard entry.shape.allSatisfy({ $0 >= 0 }), let count = StoredTensor.product(entry.shape),
                  case (let bytes, false) = count.multipliedReportingOverflow(by: dtype.byteCount),
                  bytes == end - begin
            else {
                throw file.corrupt("tensor '\(name.abbreviated())': shape \(entry.shape) of \(entry.dtype) does not fill data_offsets [\(begin), \(end)]")
            }
            let storage = (dataRange.lowerBound + begin)..<(dataRange.lowerBound + end)
            result[name] = try StoredTensor(dtype: dtype, shape: entry.shape, strides: nil, offset: 0,
                                            storage: storage, key: name, file: file.name)
            spans.append((begin, end, name))
        }
        guard result.count == header.count else { throw file.corrupt("a tensor name appears twice") }
        spans.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expected = 0
        for span in spans {
            if span.begin < expected { throw file.corrupt("tensor '\(span.name.abbreviated())' overlaps the previous tensor") }
            if span.begin > expected { throw file.corrupt("a gap of \(span.begin - expected) bytes precedes tensor '\(span.name.abbreviated())'") }
            expected = span.end
        }
        guard expected == dataRange.count else {
            throw file.corrupt("the tensors cover \(expected) of \(dataRange.count) data bytes")
        }
        return result
    }
}
