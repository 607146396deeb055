import AudioDSP
import Compute

/// Renders a ``SpectrogramImage`` as a colour picture, as Auffusion `utils.py`
/// `image_add_color(torch_to_pil(image))` does, optionally with a time axis.
///
/// Colouring, step by step as the reference: each pixel `p ∈ [0, 1]` becomes the byte
/// `⌊255·p⌋` (torchvision `ToPILImage`, truncating), which indexes the 256-entry viridis table;
/// the RGB result is min-max rescaled over the whole picture and truncated to bytes
/// (`np.uint8(x·255)`). High frequencies are at the top.
public enum SpectrogramPicture {
    /// Height of the time-axis strip below the spectrogram, in pixels.
    public static let axisHeight = 18

    /// The coloured picture of `image`.
    /// - Parameters:
    ///   - timeAxis: add a strip with a tick every second (labelled) and every 0.5 s.
    ///   - framesPerSecond: spectrogram frames per second (100 for Auffusion), for the axis.
    public static func render(_ image: SpectrogramImage, timeAxis: Bool = false,
                              framesPerSecond: Double = 100) -> RGBPicture {
        let width = image.width, height = image.height
        var colours = [Double](repeating: 0, count: width * height * 3)
        image.pixels.scalars.withUnsafeBufferPointer { pixels in
            for index in 0..<width * height {
                let level = pixels[index].isNaN ? 0 : Int(min(max(pixels[index], 0), 1) * 255)
                for channel in 0..<3 { colours[index * 3 + channel] = Viridis.table[level * 3 + channel] }
            }
        }
        let low = colours.min() ?? 0, high = colours.max() ?? 0
        let scale = high > low ? 1 / (high - low) : 0
        var bytes = colours.map { UInt8(max(0, min(255, (($0 - low) * scale * 255).rounded(.towardZero)))) }
        guard timeAxis else { return RGBPicture(width: width, height: height, bytes: bytes) }
        bytes += axisStrip(width: width, framesPerSecond: framesPerSecond)
        return RGBPicture(width: width, height: height + axisHeight, bytes: bytes)
    }

    /// A white strip with black ticks and second labels.
    private static func axisStrip(width: Int, framesPerSecond: Double) -> [UInt8] {
        var strip = [UInt8](repeating: 255, count: width * axisHeight * 3)
        guard framesPerSecond > 0, framesPerSecond.isFinite else { return strip }   // no time to mark
        func paint(_ x: Int, _ y: Int) {
            guard x >= 0, x < width, y >= 0, y < axisHeight else { return }
            for channel in 0..<3 { strip[(y * width + x) * 3 + channel] = 0 }
        }
        let halfSeconds = Int(Double(width) / framesPerSecond * 2)
        for tick in 0...max(0, halfSeconds) {
            let x = Int((Double(tick) * framesPerSecond / 2).rounded())
            let isSecond = tick % 2 == 0
            for y in 0..<(isSecond ? 5 : 3) { paint(x, y) }
            if isSecond {
                let label = String(tick / 2)
                let labelWidth = label.count * (DigitFont.width + 1) * DigitFont.scale
                var left = x == 0 ? 1 : x - labelWidth / 2
                if left + labelWidth > width { left = width - labelWidth }
                for character in label {
                    DigitFont.draw(character, atX: left, y: 6, paint)
                    left += (DigitFont.width + 1) * DigitFont.scale
                }
            }
        }
        return strip
    }
}

/// A 3×5-pixel bitmap font for the digits of axis labels, drawn at 2× scale.
private enum DigitFont {
    static let width = 3
    static let scale = 2
    // Each digit is 5 rows of 3 bits, most significant bit = left column.
    private static let rows: [[UInt8]] = [
        [7, 5, 5, 5, 7], [2, 6, 2, 2, 7], [7, 1, 7, 4, 7], [7, 1, 7, 1, 7], [5, 5, 7, 1, 1],
        [7, 4, 7, 1, 7], [7, 4, 7, 5, 7], [7, 1, 2, 2, 2], [7, 5, 7, 5, 7], [7, 5, 7, 1, 7],
    ]

    static func draw(_ character: Character, atX left: Int, y top: Int, _ paint: (Int, Int) -> Void) {
        guard let digit = character.wholeNumberValue else { return }
        for (row, bits) in rows[digit].enumerated() {
            for column in 0..<width where bits & (4 >> column) != 0 {
                for dy in 0..<scale {
                    for dx in 0..<scale { paint(left + column * scale + dx, top + row * scale + dy) }
                }
            }
        }
    }
}
