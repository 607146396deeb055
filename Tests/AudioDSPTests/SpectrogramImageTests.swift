import AudioDSP
import Compute
import Foundation
import Testing
import TestSupport

@Suite("Spectrogram image mapping")
struct SpectrogramImageTests {
    /// A log-mel covering the clamp range and beyond, with a distinct value per cell.
    private func sampleLogMel(mels: Int = 6, frames: Int = 5) -> Tensor {
        let values = (0..<mels * frames).map { Float($0) / Float(mels * frames - 1) * 20 - 13 }
        return Tensor(shape: [mels, frames], scalars: values)
    }

    @Test("row 0 of the image is the highest mel band; values are (S − lo)/(hi − lo) clamped")
    func flipAndScale() {
        let logMel = sampleLogMel()
        let image = SpectrogramImage(logMel: logMel)
        let (lo, hi) = (SpectrogramImage.logMinimum, SpectrogramImage.logMaximum)
        for mel in 0..<6 {
            for frame in 0..<5 {
                let expected = (min(max(logMel[mel, frame], lo), hi) - lo) / (hi - lo)
                #expect(image.pixels[5 - mel, frame] == expected)
            }
        }
    }

    @Test("image → log-mel → image is exact to float rounding (max |Δ| ≤ 1e-6)")
    func imageRoundTrip() {
        let image = SpectrogramImage(logMel: sampleLogMel())
        let again = SpectrogramImage(logMel: image.logMel)
        #expect(compare(again.pixels, image.pixels).maxAbs <= 1e-6)
    }

    @Test("log-mel → image → log-mel is exact inside the clamp range (max |Δ| ≤ 2e-6)")
    func logMelRoundTrip() {
        let logMel = sampleLogMel()
        let restored = SpectrogramImage(logMel: logMel).logMel
        for (original, back) in zip(logMel.scalars, restored.scalars)
        where original > SpectrogramImage.logMinimum && original < SpectrogramImage.logMaximum {
            #expect(abs(original - back) <= 2e-6)
        }
    }

    @Test("resizing pads with the silence floor (0) and crops from an explicit start")
    func resize() {
        let image = SpectrogramImage(logMel: sampleLogMel())
        let padded = image.resized(toWidth: 8)
        #expect(padded.width == 8)
        for row in 0..<6 {
            for column in 0..<5 { #expect(padded.pixels[row, column] == image.pixels[row, column]) }
            for column in 5..<8 { #expect(padded.pixels[row, column] == 0) }
        }
        let cropped = image.resized(toWidth: 2, start: 3)
        let expected = (0..<6).flatMap { row in [image.pixels[row, 3], image.pixels[row, 4]] }
        #expect(cropped.pixels.scalars == expected)
        #expect(image.paddedToMultiple(of: 8).width == 8)
        #expect(padded.paddedToMultiple(of: 8) == padded)
    }
}
