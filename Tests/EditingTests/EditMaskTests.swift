import AudioDSP
import Compute
import Editing
import Testing

@Suite("EditMask: seconds and Hz to frames, mel bins and latent cells")
struct EditMaskTests {
    private let full = MelParameters()   // 256 mels, 100 frames/s, 0-8000 Hz

    @Test("overlapping and touching ranges merge; ranges are clamped to the clip")
    func merging() throws {
        let mask = try EditMask(ranges: [3..<4, 1..<2, 1.5..<2.5, 2.5..<2.75, 9..<12], clipDuration: 10)
        #expect(mask.ranges == [1..<2.75, 3..<4, 9..<10])
        #expect(try EditMask(ranges: [-1..<0.5], clipDuration: 10).ranges == [0..<0.5])
    }

    @Test("frames and latent cells round outward; masks touching 0 and the end of the canvas")
    func frames() throws {
        let mask = try EditMask(ranges: [0..<0.16, 0.161..<0.24, 10.2..<10.24], clipDuration: 10.24)
        #expect(mask.frames(framesPerSecond: 100, frameCount: 1024) == [0..<16, 16..<24, 1020..<1024])
        let latent = mask.latentMask(shape: [1, 4, 32, 128], factor: 8, parameters: full)
        let row = (0..<128).map { latent[0, 3, 31, $0] }
        #expect(row[0..<3] == [1, 1, 1] && row[3..<127].allSatisfy { $0 == 0 } && row[127] == 1)
        #expect((0..<32).allSatisfy { latent[0, 0, $0, 0] == 1 })       // no band: every row
        let aligned = try EditMask(ranges: [2.56..<7.68], clipDuration: 10.24)
        #expect(aligned.frames(framesPerSecond: 100, frameCount: 1024) == [256..<768])   // the notebook's mask
        let cells = aligned.latentMask(shape: [1, 4, 32, 128], factor: 8, parameters: full)
        #expect((0..<128).filter { cells[0, 0, 0, $0] == 1 } == Array(32..<96))
    }

    @Test("a band maps to every mel bin whose filter overlaps it, and to latent rows outward")
    func band() throws {
        let all = try EditMask(ranges: [0..<1], band: 0..<8000, clipDuration: 10)
        #expect(all.melBins(full) == 0..<256)
        let low = try EditMask(ranges: [0..<1], band: 0..<100, clipDuration: 10)
        let bins = low.melBins(full)
        #expect(bins.lowerBound == 0 && bins.count >= 1 && bins.count < 20)
        let points = MelFilterbank.melFrequencies(count: 258, minimum: 0, maximum: 8000)
        #expect(points[bins.upperBound - 1] < 100 && points[bins.upperBound] >= 100)
        let latent = low.latentMask(shape: [1, 4, 32, 128], factor: 8, parameters: full)
        #expect(latent[0, 0, 31, 0] == 1 && latent[0, 0, 0, 0] == 0)     // row 31 holds the lowest bins
        let top = try EditMask(ranges: [0..<1], band: 7900..<8000, clipDuration: 10)
        #expect(top.melBins(full).upperBound == 256)
        #expect(top.latentMask(shape: [1, 4, 32, 128], factor: 8, parameters: full)[0, 0, 0, 0] == 1)
    }

    @Test("bad masks and bands are clear errors")
    func errors() {
        #expect(throws: EditingError.invalidMask("give at least one mask range")) {
            try EditMask(ranges: [], clipDuration: 10)
        }
        #expect(throws: EditingError.self) { try EditMask(ranges: [2..<2], clipDuration: 10) }
        #expect(throws: EditingError.invalidMask("the mask 11.0-12.0 s lies outside the clip (0-10.0 s)")) {
            try EditMask(ranges: [11..<12], clipDuration: 10)
        }
        #expect(throws: EditingError.invalidBand(low: 500, high: 9000, maximum: 8000)) {
            try EditMask(ranges: [1..<2], band: 500..<9000, clipDuration: 10)
        }
        #expect(throws: EditingError.self) { try EditMask(ranges: [1..<2], band: -5..<100, clipDuration: 10) }
    }
}
