import CZlib
import FileOutput
import Foundation

/// An 8-bit RGB picture in memory, row-major, 3 bytes per pixel.
public struct RGBPicture: Sendable, Equatable {
    public let width: Int
    public let height: Int
    /// `height · width · 3` bytes, rows top to bottom.
    public var bytes: [UInt8]

    public init(width: Int, height: Int, bytes: [UInt8]) {
        precondition(bytes.count == width * height * 3, "RGBPicture: \(bytes.count) bytes for \(width)×\(height)")
        self.width = width
        self.height = height
        self.bytes = bytes
    }

    /// The picture encoded as a PNG file (colour type 2, 8 bits, no interlace; zlib level 6).
    public func pngData() -> Data {
        var raw = [UInt8]()
        raw.reserveCapacity(height * (width * 3 + 1))
        for row in 0..<height {
            raw.append(0)  // filter type: none
            raw.append(contentsOf: bytes[(row * width * 3)..<((row + 1) * width * 3)])
        }
        var png = Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var header = [UInt8]()
        header += Self.bigEndian(UInt32(width)) + Self.bigEndian(UInt32(height))
        header += [8, 2, 0, 0, 0]
        Self.appendChunk("IHDR", header, to: &png)
        Self.appendChunk("IDAT", Self.deflate(raw), to: &png)
        Self.appendChunk("IEND", [], to: &png)
        return png
    }

    /// Writes the PNG atomically.
    public func writePNG(to url: URL) throws {
        try AtomicFile.write(pngData(), to: url)
    }

    private static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(value >> 24), UInt8((value >> 16) & 0xFF), UInt8((value >> 8) & 0xFF), UInt8(value & 0xFF)]
    }

    private static func appendChunk(_ type: String, _ payload: [UInt8], to png: inout Data) {
        let typeBytes = Array(type.utf8)
        png.append(contentsOf: bigEndian(UInt32(payload.count)))
        png.append(contentsOf: typeBytes)
        png.append(contentsOf: payload)
        let checked = typeBytes + payload
        let crc = checked.withUnsafeBufferPointer { crc32(0, $0.baseAddress, uInt($0.count)) }
        png.append(contentsOf: bigEndian(UInt32(crc)))
    }

    private static func deflate(_ raw: [UInt8]) -> [UInt8] {
        var capacity = compressBound(uLong(raw.count))
        var output = [UInt8](repeating: 0, count: Int(capacity))
        let status = output.withUnsafeMutableBufferPointer { out in
            raw.withUnsafeBufferPointer { input in
                compress2(out.baseAddress, &capacity, input.baseAddress, uLong(input.count), 6)
            }
        }
        precondition(status == Z_OK, "zlib compress2 failed with status \(status)")
        return Array(output[0..<Int(capacity)])
    }
}
