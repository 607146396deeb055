import Compute
import Foundation

/// A log-mel spectrogram mapped to the [0, 1] "image" the Auffusion VAE sees, and back.
///
/// Port of Auffusion `converter.py` `normalize_spectrogram` / `denormalize_spectrogram` (with
/// `power = 1`) and the clamp of `auffusion_pipeline.py`:
/// `d = (clamp(S, lo, hi) − lo) / (hi − lo)` with `lo = ln(1e-5)`, `hi = ln(200)`, flipped along
/// the mel axis so that row 0 is the highest band. The inverse is `S = d·(hi − lo) + lo` after
/// flipping back (no clamp, as the reference). The reference repeats the image over 3 channels
/// for the VAE; this type stores the single channel.
public struct SpectrogramImage: Sendable, Equatable {
    /// Lowest representable log-mel value, `ln(1e-5)`.
    public static let logMinimum: Float = Float(log(1e-5))
    /// Highest representable log-mel value, `ln(200)`.
    public static let logMaximum: Float = Float(log(200.0))

    /// `[height = mel bins, width = frames]`, values in [0, 1], row 0 = highest mel bin.
    public var pixels: Tensor

    /// Wraps an existing `[height, width]` image.
    public init(pixels: Tensor) {
        precondition(pixels.rank == 2, "SpectrogramImage: expected [height, width], got \(pixels.shape)")
        self.pixels = pixels
    }

    /// Maps a `[mels, frames]` log-mel spectrogram (low frequencies first) to the image.
    public init(logMel: Tensor) {
        precondition(logMel.rank == 2, "SpectrogramImage: expected [mels, frames], got \(logMel.shape)")
        let (height, width) = (logMel.shape[0], logMel.shape[1])
        let low = Self.logMinimum, high = Self.logMaximum, range = high - low
        var values = [Float](repeating: 0, count: height * width)
        logMel.scalars.withUnsafeBufferPointer { source in
            for row in 0..<height {
                let sourceRow = (height - 1 - row) * width
                for column in 0..<width {
                    values[row * width + column] = (min(max(source[sourceRow + column], low), high) - low) / range
                }
            }
        }
        pixels = Tensor(shape: [height, width], scalars: values)
    }

    /// Number of mel rows.
    public var height: Int { pixels.shape[0] }
    /// Number of frames.
    public var width: Int { pixels.shape[1] }

    /// The `[mels, frames]` log-mel spectrogram (low frequencies first) this image encodes.
    public var logMel: Tensor {
        let low = Self.logMinimum, range = Self.logMaximum - Self.logMinimum
        var values = [Float](repeating: 0, count: height * width)
        pixels.scalars.withUnsafeBufferPointer { source in
            for row in 0..<height {
                let sourceRow = (height - 1 - row) * width
                for column in 0..<width {
                    values[row * width + column] = source[sourceRow + column] * range + low
                }
            }
        }
        return Tensor(shape: [height, width], scalars: values)
    }

    /// The image cut or extended to `width` frames, starting at frame `start`.
    ///
    /// Frames past the end are filled with 0, the silence floor, as Auffusion `utils.py`
    /// `pad_spec(pad_value=0)`. The reference crops long clips at a random offset; here the
    /// offset is explicit (default 0).
    public func resized(toWidth newWidth: Int, start: Int = 0) -> SpectrogramImage {
        precondition(newWidth >= 0 && start >= 0, "SpectrogramImage: negative width or start")
        var values = [Float](repeating: 0, count: height * newWidth)
        let copied = max(0, min(newWidth, width - start))
        pixels.scalars.withUnsafeBufferPointer { source in
            for row in 0..<height where copied > 0 {
                for column in 0..<copied {
                    values[row * newWidth + column] = source[row * width + start + column]
                }
            }
        }
        return SpectrogramImage(pixels: Tensor(shape: [height, newWidth], scalars: values))
    }

    /// The image right-padded with silence to the next multiple of `multiple` frames (8 for the VAE).
    public func paddedToMultiple(of multiple: Int) -> SpectrogramImage {
        let rounded = (width + multiple - 1) / multiple * multiple
        return rounded == width ? self : resized(toWidth: rounded)
    }
}
