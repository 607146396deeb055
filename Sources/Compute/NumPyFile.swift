import FileOutput
import Foundation

/// Reads and writes NumPy `.npy` files: the project's interchange format for spectrograms,
/// latents, embeddings and noise.
///
/// Written files are format version 1.0, dtype `<f4` (little-endian float32), C order, so any
/// numeric tool reads them (`numpy.load`). Reading accepts versions 1.0–3.0 and the dtypes
/// `<f4`, `<f8`, `<f2`, `<i2`, `<i4`, `<i8`, `|u1` and `|b1`, converted to Float; Fortran order is
/// refused. See the format description in NumPy's `numpy/lib/format.py`.
public enum NumPyFile {
    /// Why a `.npy` file could not be read or written.
    public enum Error: Swift.Error, Equatable, CustomStringConvertible {
        case unreadable(path: String, reason: String)
        case malformed(path: String, reason: String)
        case unsupportedDType(path: String, dtype: String)

        public var description: String {
            switch self {
            case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
            case .malformed(let path, let reason): "\(path) is not a valid .npy file: \(reason)"
            case .unsupportedDType(let path, let dtype):
                "\(path) holds dtype '\(dtype.abbreviated(to: 40))'; expected float32 ('<f4') or another plain numeric type"
            }
        }
    }

    private static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Reads a `.npy` file into a tensor.
    /// - Throws: ``Error`` when the file is missing, not a regular file (a FIFO would block),
    ///   malformed or of an unsupported dtype.
    public static func read(_ url: URL) throws -> Tensor {
        let data: Data
        do { try InputFile.requireRegular(url) } catch let error as InputFile.Error {
            throw Error.unreadable(path: url.path, reason: error.reason)
        }
        do { data = try Data(contentsOf: url, options: .mappedIfSafe) } catch {
            throw Error.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
        return try decode(data, path: url.path)
    }

    /// Decodes the bytes of a `.npy` file; `path` names it in errors.
    public static func decode(_ data: Data, path: String = "<memory>") throws -> Tensor {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else {
            throw Error.malformed(path: path, reason: "missing the \\x93NUMPY magic")
        }
        let major = bytes[6]
        let headerLength: Int
        let headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw Error.malformed(path: path, reason: "truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw Error.malformed(path: path, reason: "unknown format version \(major)")
        }
        guard headerStart + headerLength <= data.count,
              let header = String(data: data.subdata(in: headerStart..<headerStart + headerLength),
                                  encoding: major == 3 ? .utf8 : .isoLatin1)
        else { throw Error.malformed(path: path, reason: "truncated header") }

        let descr = try field("descr", in: header, path: path)
        let fortran = try field("fortran_order", in: header, path: path)
        let shapeText = try field("shape", in: header, path: path)
        guard fortran == "False" else {
            throw Error.malformed(path: path, reason: "Fortran-ordered arrays are not supported; save with C order")
        }
        let shape = try parseShape(shapeText, path: path)
        let count = shape.reduce(1, *)
        let payload = data.subdata(in: headerStart + headerLength..<data.count)
        let scalars = try convert(payload, dtype: descr, count: count, path: path)
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Writes `tensor` as a version 1.0, `<f4`, C-order `.npy` file, atomically.
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try AtomicFile.write(encode(tensor), to: url)
    }

    /// The bytes of `tensor` as a `.npy` file.
    public static func encode(_ tensor: Tensor) -> Data {
        let shapeText: String = switch tensor.shape.count {
        case 0: "()"
        case 1: "(\(tensor.shape[0]),)"
        default: "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
        }
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shapeText), }"
        // Pad with spaces so that magic + length + header + "\n" is a multiple of 64 bytes.
        let unpadded = magic.count + 4 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(magic + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        tensor.scalars.withUnsafeBytes { data.append(contentsOf: $0) }
        return data
    }

    private static func field(_ name: String, in header: String, path: String) throws -> String {
        guard let keyRange = header.range(of: "'\(name)':") else {
            throw Error.malformed(path: path, reason: "header has no '\(name)'")
        }
        var rest = header[keyRange.upperBound...].drop { $0 == " " }
        if rest.first == "(" {
            guard let close = rest.firstIndex(of: ")") else {
                throw Error.malformed(path: path, reason: "unterminated shape")
            }
            return String(rest[...close])
        }
        if rest.first == "'" {
            rest = rest.dropFirst()
            guard let close = rest.firstIndex(of: "'") else {
                throw Error.malformed(path: path, reason: "unterminated '\(name)'")
            }
            return String(rest[..<close])
        }
        return String(rest.prefix { $0 != "," && $0 != "}" }).trimmingCharacters(in: .whitespaces)
    }

    private static func parseShape(_ text: String, path: String) throws -> [Int] {
        let inner = text.dropFirst().dropLast()
        let parts = inner.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        var shape: [Int] = []
        for part in parts {
            guard let value = Int(part), value >= 0, value < 1 << 40 else {
                throw Error.malformed(path: path, reason: "bad shape \(text.abbreviated())")
            }
            shape.append(value)
        }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, product < 1 << 40 else { throw Error.malformed(path: path, reason: "absurd shape \(text.abbreviated())") }
            count = product
        }
        return shape
    }

    private static func convert(_ payload: Data, dtype: String, count: Int, path: String) throws -> [Float] {
        func load<T>(_ type: T.Type, _ transform: (T) -> Float) throws -> [Float] {
            let needed = count * MemoryLayout<T>.size
            guard payload.count >= needed else {
                throw Error.malformed(path: path, reason: "expected \(needed) data bytes, found \(payload.count)")
            }
            return payload.withUnsafeBytes { raw in
                (0..<count).map { transform(raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self)) }
            }
        }
        switch dtype {
        case "<f4": return try load(Float.self) { $0 }
        case "<f8": return try load(Double.self) { Float($0) }
        case "<f2": return try load(UInt16.self) { Float(Float16(bitPattern: $0)) }
        case "<i2": return try load(Int16.self) { Float($0) }
        case "<i4": return try load(Int32.self) { Float($0) }
        case "<i8": return try load(Int64.self) { Float($0) }
        case "|u1", "|b1": return try load(UInt8.self) { Float($0) }
        default: throw Error.unsupportedDType(path: path, dtype: dtype)
        }
    }
}
