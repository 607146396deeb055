import AudioDSP
import Compute
import Pictures
import Testing

@Suite("Attention heatmaps")
struct AttentionHeatmapTests {
    @Test("bilinear upsampling keeps constants, interpolates between cell centres and clamps at the borders")
    func upsampling() {
        let constant = AttentionHeatmap.upsampleBilinear(Tensor(shape: [2, 2], repeating: 3), height: 8, width: 8)
        #expect(constant.allSatisfy { $0 == 3 })
        // One row [0, 1] → 4 columns: centres at 0.5 and 2.5 of the output → 0, 0.25, 0.75, 1.
        let ramp = AttentionHeatmap.upsampleBilinear(Tensor(shape: [1, 2], scalars: [0, 1]), height: 1, width: 4)
        #expect(ramp == [0, 0.25, 0.75, 1])
    }

    @Test("a heatmap has the spectrogram's size, and a zero map leaves a dimmed greyscale spectrogram")
    func heatmap() {
        let image = SpectrogramImage(pixels: Tensor(shape: [16, 8], repeating: 1))
        let picture = AttentionHeatmap.render(Tensor.zeros([2, 1]), over: image)
        #expect(picture.width == 8 && picture.height == 16)
        let darkest = [0.050383, 0.029803, 0.527975]   // plasma[0]
        let expected = darkest.map { UInt8((((1 - AttentionHeatmap.opacity) + AttentionHeatmap.opacity * $0) * 255).rounded()) }
        #expect(Array(picture.bytes[0..<3]) == expected)
    }
}
