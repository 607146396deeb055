/// The level of what a signal holds within a frequency band: the root mean square of its
/// band-limited part, measured on Hann-windowed frames (about 46 ms, half overlapping), in the
/// units of the samples (a full-scale sine over the whole band measures 0.707).
///
/// Not in the reference: an edit sets the level of a fill from the audio around it with this
/// (docs/editing.md, "The fill's level"). Parseval on each frame: the mean square of the windowed
/// frame is `2·Σ|X_k|² / (n·Σw²)` over the one-sided bins, so summing only the band's bins gives
/// the band's share; a signal shorter than a frame is zero-padded to one (its level is then
/// underestimated by the padding's share).
public struct BandLevel: Sendable {
    /// The band in Hz; `nil` for everything up to Nyquist.
    public var band: Range<Double>?
    public var sampleRate: Double

    public init(band: Range<Double>?, sampleRate: Double) {
        self.band = band
        self.sampleRate = sampleRate
    }

    /// Frames of about 46 ms at `sampleRate` (2048 samples at 44.1 or 48 kHz, 1024 at 16 kHz), a power of two.
    public static func frameSize(sampleRate: Double) -> Int {
        var size = 256
        while Double(size) < 0.046 * sampleRate { size *= 2 }
        return size
    }

    /// The sum over frames of each frame's band mean square, and the frame count, of every piece
    /// in `pieces` (so that the two sides of a gap count as one measurement without a seam).
    public func power(of pieces: [[Float]]) -> (sum: Double, frames: Int) {
        let size = Self.frameSize(sampleRate: sampleRate)
        let stft = ShortTimeFourierTransform(fftSize: size, hopLength: size / 2, windowLength: size)
        let binWidth = sampleRate / Double(size)
        let bins = (0..<stft.binCount).filter { bin in band.map { $0.contains(Double(bin) * binWidth) } ?? true }
        let windowEnergy = stft.window.reduce(0.0) { $0 + Double($1 * $1) }
        let scale = 2 / (Double(size) * windowEnergy)
        var sum = 0.0, frames = 0
        for piece in pieces where !piece.isEmpty {
            let padded = piece.count < size ? piece + [Float](repeating: 0, count: size - piece.count) : piece
            let magnitudes = stft.magnitudes(of: padded, epsilon: 0)
            let count = magnitudes.count / stft.binCount
            for frame in 0..<count {
                let row = frame * stft.binCount
                sum += bins.reduce(0.0) { $0 + Double(magnitudes[row + $1] * magnitudes[row + $1]) } * scale
            }
            frames += count
        }
        return (sum, frames)
    }

    /// The band's root-mean-square level over `pieces` (0 for no samples).
    public func callAsFunction(_ pieces: [Float]...) -> Double {
        let (sum, frames) = power(of: pieces)
        return frames > 0 ? (sum / Double(frames)).squareRoot() : 0
    }
}
