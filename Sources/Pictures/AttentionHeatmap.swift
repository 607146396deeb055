import AudioDSP
import Compute

/// Paints a map over a spectrogram: where on the canvas a word of the prompt attended.
///
/// Adapted from Auffusion prompt2prompt/ptp_utils.py `show_cross_attention` (docs/reference.md §8.5), which
/// shows each token's map alone, scaled by its maximum (`255·map/max(map)`), coloured with the
/// plasma table and resized to the picture. Here the map is laid over the spectrogram instead, so
/// it can be read against the sound:
/// - the map `[h, w]` (latent rows × columns, high frequencies first like the image) is upsampled
///   **bilinearly** to the spectrogram's `[H, W]` with half-pixel centres (`F.interpolate(…,
///   mode="bilinear", align_corners=False)`), each output pixel a weighted mean of its four nearest
///   cells, so the 8×8-pixel cells of a latent do not show as blocks;
/// - it is divided by its maximum and coloured with plasma (`⌊255·v⌋` indexes the table);
/// - each pixel is `(1 − α)·grey + α·colour` with the spectrogram's level as grey and ``opacity`` α.
public enum AttentionHeatmap {
    /// α: the weight of the map's colour over the greyscale spectrogram.
    public static let opacity = 0.6

    /// The heatmap of `map` (`[h, w]`) over `image`.
    public static func render(_ map: Tensor, over image: SpectrogramImage) -> RGBPicture {
        let width = image.width, height = image.height
        let upsampled = upsampleBilinear(map, height: height, width: width)
        let peak = upsampled.max() ?? 0
        let scale = peak > 0 ? 1 / peak : 0
        var bytes = [UInt8](repeating: 0, count: width * height * 3)
        image.pixels.scalars.withUnsafeBufferPointer { pixels in
            for index in 0..<(width * height) {
                let grey = Double(min(max(pixels[index], 0), 1))
                let level = Int(min(max(upsampled[index] * scale, 0), 1) * 255)
                for channel in 0..<3 {
                    let value = (1 - opacity) * grey + opacity * Plasma.table[level * 3 + channel]
                    bytes[index * 3 + channel] = UInt8(min(max(value * 255, 0), 255).rounded())
                }
            }
        }
        return RGBPicture(width: width, height: height, bytes: bytes)
    }

    /// `map` `[h, w]` resized to `height × width` row-major, bilinear with half-pixel centres
    /// (coordinates clamped at the borders, as `align_corners=False`).
    public static func upsampleBilinear(_ map: Tensor, height: Int, width: Int) -> [Float] {
        let rows = map.shape[0], columns = map.shape[1]
        let cells = map.scalars
        func axis(_ outputCount: Int, _ inputCount: Int) -> [(Int, Int, Float)] {
            (0..<outputCount).map { output in
                let source = max((Float(output) + 0.5) * Float(inputCount) / Float(outputCount) - 0.5, 0)
                let low = min(Int(source), inputCount - 1)
                return (low, min(low + 1, inputCount - 1), source - Float(low))
            }
        }
        let ys = axis(height, rows), xs = axis(width, columns)
        var output = [Float](repeating: 0, count: height * width)
        for (y, (top, bottom, fy)) in ys.enumerated() {
            for (x, (left, right, fx)) in xs.enumerated() {
                let upper = cells[top * columns + left] * (1 - fx) + cells[top * columns + right] * fx
                let lower = cells[bottom * columns + left] * (1 - fx) + cells[bottom * columns + right] * fx
                output[y * width + x] = upper * (1 - fy) + lower * fy
            }
        }
        return output
    }
}
