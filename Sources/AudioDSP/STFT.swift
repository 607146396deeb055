import Compute

/// A complex spectrogram: `frames × bins` values in frame-major order, real and imaginary
/// parts in separate arrays.
public struct ComplexSpectrogram: Sendable, Equatable {
    public var frameCount: Int
    public var binCount: Int
    public var real: [Float]
    public var imaginary: [Float]

    public init(frameCount: Int, binCount: Int, real: [Float], imaginary: [Float]) {
        precondition(real.count == frameCount * binCount && imaginary.count == real.count,
                     "ComplexSpectrogram: \(real.count) values for \(frameCount)×\(binCount)")
        self.frameCount = frameCount
        self.binCount = binCount
        self.real = real
        self.imaginary = imaginary
    }
}

/// The short-time Fourier transform as `torch.stft(center=False, onesided=True,
/// normalized=False)` computes it, on FFTW, and its overlap-add inverse.
///
/// Frame `k` covers samples `[k·hop, k·hop + fftSize)` of the (already padded) signal; the
/// window is the periodic Hann of `windowLength` samples centred in the frame, as torch pads
/// a short window. Frames are transformed in parallel on ``ComputeThreads/count`` threads.
public struct ShortTimeFourierTransform: Sendable {
    public let fftSize: Int
    public let hopLength: Int
    /// The analysis window, `fftSize` long (zero outside the centred Hann).
    public let window: [Float]
    private let windowRange: Range<Int>

    public init(fftSize: Int, hopLength: Int, windowLength: Int) {
        precondition(windowLength <= fftSize && hopLength > 0, "STFT: invalid sizes")
        self.fftSize = fftSize
        self.hopLength = hopLength
        window = Window.centered(Window.periodicHann(length: windowLength), in: fftSize)
        let left = (fftSize - windowLength) / 2
        windowRange = left..<left + windowLength
    }

    /// Creates the transform for a mel analysis.
    public init(_ parameters: MelParameters) {
        self.init(fftSize: parameters.fftSize, hopLength: parameters.hopLength,
                  windowLength: parameters.windowLength)
    }

    /// Number of one-sided bins, `fftSize / 2 + 1`.
    public var binCount: Int { fftSize / 2 + 1 }

    /// Number of frames in a signal of `length` samples.
    public func frameCount(signalLength length: Int) -> Int {
        length < fftSize ? 0 : (length - fftSize) / hopLength + 1
    }

    /// `|X| = sqrt(re² + im² + epsilon)` per frame and bin, as Auffusion's `mel_spectrogram`.
    /// - Returns: `frames × bins` magnitudes, frame-major.
    public func magnitudes(of signal: [Float], epsilon: Float) -> [Float] {
        let frames = frameCount(signalLength: signal.count), bins = binCount
        var output = [Float](repeating: 0, count: frames * bins)
        output.withUnsafeMutableBufferPointer { out in
            transformFrames(signal, frames: frames) { frame, buffers in
                let row = frame * bins
                for k in 0..<bins {
                    let (re, im) = buffers.bin(k)
                    out[row + k] = (re * re + im * im + epsilon).squareRoot()
                }
            }
        }
        return output
    }

    /// The complex STFT of `signal`.
    public func spectrogram(of signal: [Float]) -> ComplexSpectrogram {
        let frames = frameCount(signalLength: signal.count), bins = binCount
        var real = [Float](repeating: 0, count: frames * bins)
        var imaginary = real
        real.withUnsafeMutableBufferPointer { re in
            imaginary.withUnsafeMutableBufferPointer { im in
                transformFrames(signal, frames: frames) { frame, buffers in
                    for k in 0..<bins {
                        (re[frame * bins + k], im[frame * bins + k]) = buffers.bin(k)
                    }
                }
            }
        }
        return ComplexSpectrogram(frameCount: frames, binCount: bins, real: real, imaginary: imaginary)
    }

    /// The least-squares inverse (overlap-add of windowed inverse FFTs, divided by the summed
    /// squared window), as `torch.istft(center=False)`.
    /// - Returns: `(frames − 1)·hop + fftSize` samples; where no window covers a sample it is 0.
    public func inverse(_ spectrogram: ComplexSpectrogram) -> [Float] {
        precondition(spectrogram.binCount == binCount, "STFT.inverse: \(spectrogram.binCount) bins, expected \(binCount)")
        let frames = spectrogram.frameCount, bins = binCount, size = fftSize
        guard frames > 0 else { return [] }
        let fft = RealFFT.of(size: size)
        let span = windowRange.count, offset = windowRange.lowerBound
        var segments = [Float](repeating: 0, count: frames * span)
        let scale = 1 / Float(size)
        segments.withUnsafeMutableBufferPointer { out in
            ComputeThreads.parallelRanges(frames, minimumPerRange: 16) { range in
                let buffers = fft.makeBuffers()
                for frame in range {
                    for k in 0..<bins {
                        buffers.setBin(k, (spectrogram.real[frame * bins + k], spectrogram.imaginary[frame * bins + k]))
                    }
                    fft.inverse(buffers)
                    for n in 0..<span {
                        out[frame * span + n] = buffers.real[offset + n] * scale * window[offset + n]
                    }
                }
            }
        }
        let length = (frames - 1) * hopLength + size
        var signal = [Float](repeating: 0, count: length)
        var envelope = [Float](repeating: 0, count: length)
        for frame in 0..<frames {
            let start = frame * hopLength + offset
            for n in 0..<span {
                signal[start + n] += segments[frame * span + n]
                envelope[start + n] += window[offset + n] * window[offset + n]
            }
        }
        for index in signal.indices where envelope[index] > 1e-11 {
            signal[index] /= envelope[index]
        }
        return signal
    }

    /// Runs the forward FFT of every frame (in parallel) and hands each result to `consume`,
    /// which must only write the rows of its own frame.
    private func transformFrames(_ signal: [Float], frames: Int,
                                 _ consume: (Int, RealFFT.Buffers) -> Void) {
        guard frames > 0 else { return }
        let fft = RealFFT.of(size: fftSize)
        ComputeThreads.parallelRanges(frames, minimumPerRange: 16) { range in
            let buffers = fft.makeBuffers()
            for n in 0..<fftSize { buffers.real[n] = 0 }
            signal.withUnsafeBufferPointer { samples in
                for frame in range {
                    let start = frame * hopLength
                    for n in windowRange { buffers.real[n] = samples[start + n] * window[n] }
                    fft.forward(buffers)
                    consume(frame, buffers)
                }
            }
        }
    }
}
