import Foundation

/// One frequency band of a signal replaced by another signal's, in the short-time Fourier domain.
///
/// Not in the reference: band-limited inpainting (docs/editing.md, "The band splice") keeps what
/// lies outside the band. Both signals are transformed with Hann frames of about 46 ms at a
/// quarter-frame hop (2048/512 at 44.1 kHz); each bin takes `w(f)·inside + (1 − w(f))·outside`,
/// with `w = 1` within the band, 0 beyond ``transitionOctaves`` of it and a raised cosine in
/// between (on a log-frequency axis; none below a band that starts at 0 Hz); the least-squares
/// inverse STFT gives the result. The operation is linear and `w` smooth, so it acts as a
/// zero-phase crossover filter: with `w ≡ 0` the output is `outside` to float rounding.
public struct BandSplice: Sendable {
    /// The band replaced, in Hz.
    public var band: Range<Double>
    /// Width of each transition outside the band, in octaves.
    public var transitionOctaves = 0.25

    public init(band: Range<Double>) { self.band = band }

    /// The weight of `inside` at `frequency` Hz.
    public func weight(at frequency: Double) -> Float {
        func rise(_ position: Double) -> Float { Float(0.5 - 0.5 * cos(Double.pi * min(max(position, 0), 1))) }
        if frequency < band.lowerBound {
            guard band.lowerBound > 0, frequency > 0 else { return 0 }
            return rise(1 + log2(frequency / band.lowerBound) / transitionOctaves)
        }
        if frequency > band.upperBound { return rise(1 - log2(frequency / band.upperBound) / transitionOctaves) }
        return 1
    }

    /// `outside` with the band taken from `inside` (the same length, at `sampleRate`).
    public func callAsFunction(_ inside: [Float], into outside: [Float], sampleRate: Double) -> [Float] {
        precondition(inside.count == outside.count, "BandSplice: the signals differ in length")
        let size = BandLevel.frameSize(sampleRate: sampleRate)
        let stft = ShortTimeFourierTransform(fftSize: size, hopLength: size / 4, windowLength: size)
        // Pad a frame of zeros on each side (and to a whole hop) so that every sample lies under four full frames.
        let padding = [Float](repeating: 0, count: size)
        let tail = [Float](repeating: 0, count: (size / 4 - outside.count % (size / 4)) % (size / 4))
        let a = stft.spectrogram(of: padding + inside + tail + padding)
        var mixed = stft.spectrogram(of: padding + outside + tail + padding)
        let weights = (0..<stft.binCount).map { weight(at: Double($0) * sampleRate / Double(size)) }
        for frame in 0..<mixed.frameCount {
            for bin in 0..<mixed.binCount where weights[bin] > 0 {
                let index = frame * mixed.binCount + bin, w = weights[bin]
                mixed.real[index] = w * a.real[index] + (1 - w) * mixed.real[index]
                mixed.imaginary[index] = w * a.imaginary[index] + (1 - w) * mixed.imaginary[index]
            }
        }
        return Array(stft.inverse(mixed)[size..<(size + outside.count)])
    }
}
