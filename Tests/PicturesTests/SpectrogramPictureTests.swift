import AudioDSP
import Compute
import Foundation
import Pictures
import Testing
import TestSupport

@Suite("Spectrogram pictures")
struct SpectrogramPictureTests {
    @Test("colours equal Auffusion's image_add_color(torch_to_pil(x)) byte for byte")
    func viridisMatchesReference() throws {
        let input = try Fixtures.tensor("picture/input.npy")
        let expected = try Fixtures.tensor("picture/viridis_rgb.npy")
        let picture = SpectrogramPicture.render(SpectrogramImage(pixels: input))
        #expect(picture.width == input.shape[1] && picture.height == input.shape[0])
        #expect(picture.bytes.map(Float.init) == expected.scalars)
    }

    @Test("the time axis adds a labelled strip below the spectrogram")
    func timeAxis() throws {
        let image = SpectrogramImage(pixels: Tensor(shape: [16, 250], repeating: 0.5))
        let picture = SpectrogramPicture.render(image, timeAxis: true, framesPerSecond: 100)
        #expect(picture.height == 16 + SpectrogramPicture.axisHeight)
        let strip = picture.bytes[(16 * 250 * 3)...]
        #expect(strip.contains(0) && strip.contains(255))
        // A tick at every second: x = 0, 100, 200 are black in the strip's first row.
        for x in [0, 100, 200] { #expect(picture.bytes[(16 * 250 + x) * 3] == 0) }
    }

    @Test("a NaN pixel and a frame rate that is not one render instead of trapping: the pixel as 0, the strip without ticks")
    func oddValues() {
        var pixels = Tensor(shape: [4, 8], repeating: 0.5)
        pixels.scalars[3] = .nan
        for fps in [0, Double.nan, -1] {
            let picture = SpectrogramPicture.render(SpectrogramImage(pixels: pixels), timeAxis: true, framesPerSecond: fps)
            #expect(picture.height == 4 + SpectrogramPicture.axisHeight)
            #expect(picture.bytes[(4 * 8 * 3)...].allSatisfy { $0 == 255 })
        }
    }

    @Test("the PNG has a valid signature, header and chunk checksums")
    func pngStructure() throws {
        let picture = RGBPicture(width: 3, height: 2, bytes: (0..<18).map { UInt8($0 * 14) })
        let png = [UInt8](picture.pngData())
        #expect(Array(png[0..<8]) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        var offset = 8
        var chunkTypes: [String] = []
        while offset < png.count {
            let length = png[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
            let type = String(decoding: png[offset + 4..<offset + 8], as: UTF8.self)
            let body = Array(png[offset + 4..<offset + 8 + length])
            let stored = png[offset + 8 + length..<offset + 12 + length].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            #expect(stored == crc32(body), "CRC of \(type)")
            if type == "IHDR" { #expect(Array(body[4..<17]) == [0, 0, 0, 3, 0, 0, 0, 2, 8, 2, 0, 0, 0]) }
            if type == "IDAT" { #expect(body[4] == 0x78) }  // zlib stream header
            chunkTypes.append(type)
            offset += 12 + length
        }
        #expect(chunkTypes == ["IHDR", "IDAT", "IEND"])
    }

    /// CRC-32 (ISO 3309), as PNG specifies, computed independently of zlib.
    private func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return crc ^ 0xFFFF_FFFF
    }
}
