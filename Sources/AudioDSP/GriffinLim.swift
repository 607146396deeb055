import Compute

/// Phase reconstruction from a magnitude spectrogram by the fast Griffin-Lim algorithm
/// (Perraudin, Balazs & Søndergaard 2013), as `librosa.griffinlim` implements it:
///
/// ```text
/// angles ← 1 (zero phase)                       rebuilt ← 0
/// repeat n times:
///     previous ← rebuilt
///     rebuilt  ← STFT(ISTFT(S · angles))
///     angles   ← rebuilt − momentum / (1 + momentum) · previous
///     angles   ← angles / (|angles| + 1e-16)
/// return ISTFT(S · angles)
/// ```
///
/// The STFT is the analysis transform of ``MelAnalyzer`` (reflect padding, `center=False`), so
/// the output has `frames · hop` samples and re-analyses to the same frame grid. This is the
/// vocoder that needs no weights.
public struct GriffinLim: Sendable {
    /// Number of iterations (librosa's default 32).
    public var iterations: Int
    /// Momentum of the fast variant (librosa's default 0.99; 0 gives classic Griffin-Lim).
    public var momentum: Float
    public let parameters: MelParameters
    private let transform: ShortTimeFourierTransform

    public init(parameters: MelParameters, iterations: Int = 32, momentum: Float = 0.99) {
        precondition(iterations >= 0 && momentum >= 0, "GriffinLim: negative iterations or momentum")
        self.parameters = parameters
        self.iterations = iterations
        self.momentum = momentum
        transform = ShortTimeFourierTransform(parameters)
    }

    /// The fewest frames it reconstructs: each iteration reflects the signal at its ends by
    /// ``MelParameters/padding`` samples, as the analysis does, which needs a longer signal.
    public var minimumFrames: Int { parameters.padding / parameters.hopLength + 1 }

    /// Reconstructs a signal from `frames × bins` magnitudes (frame-major).
    /// - Parameter progress: called after each iteration with (done, total); `false` stops.
    /// - Returns: `frames · hop` samples.
    /// - Throws: ``AnalysisError/tooFewFrames(count:minimum:)`` below ``minimumFrames``;
    ///   `CancellationError` when `progress` returns `false`.
    public func reconstruct(magnitudes: [Float], frameCount frames: Int,
                            progress: (Int, Int) -> Bool = { _, _ in true }) throws -> [Float] {
        let bins = transform.binCount
        precondition(magnitudes.count == frames * bins, "GriffinLim: \(magnitudes.count) magnitudes for \(frames) frames")
        guard frames >= minimumFrames else { throw AnalysisError.tooFewFrames(count: frames, minimum: minimumFrames) }
        var angles = ComplexSpectrogram(frameCount: frames, binCount: bins,
                                        real: [Float](repeating: 1, count: frames * bins),
                                        imaginary: [Float](repeating: 0, count: frames * bins))
        var rebuilt = ComplexSpectrogram(frameCount: frames, binCount: bins,
                                         real: [Float](repeating: 0, count: frames * bins),
                                         imaginary: [Float](repeating: 0, count: frames * bins))
        let acceleration = momentum / (1 + momentum)
        for iteration in 0..<iterations {
            let previous = rebuilt
            rebuilt = transform.spectrogram(of: reanalysable(signal(magnitudes, angles)))
            for index in 0..<frames * bins {
                let re = rebuilt.real[index] - acceleration * previous.real[index]
                let im = rebuilt.imaginary[index] - acceleration * previous.imaginary[index]
                let norm = (re * re + im * im).squareRoot() + 1e-16
                angles.real[index] = re / norm
                angles.imaginary[index] = im / norm
            }
            guard progress(iteration + 1, iterations) else { throw CancellationError() }
        }
        return signal(magnitudes, angles)
    }

    /// Frames a long reconstruction works on at once (default 1024, 10.24 s at Auffusion's frame
    /// rate), and frames that neighbouring blocks share (default 128).
    public var blockFrames = 1024, blockOverlap = 128

    /// Reconstructs a signal of any length block by block, so that memory grows with the block,
    /// not the length: ``reconstruct(magnitudes:frameCount:progress:)`` on `blockFrames` at a
    /// time, neighbours sharing `blockOverlap`, crossfaded over the middle quarter of what they
    /// share. Started from zero phase, Griffin-Lim settles on the same phases for the same
    /// magnitudes away from a block's edges, so neighbours agree there and their crossfade neither
    /// dips nor smears (docs/editing.md, "Long clips", has the measure). A signal no longer than a
    /// block, or an FFT too long for the overlap, is reconstructed whole.
    /// - Parameters:
    ///   - magnitudes: the `count × bins` magnitudes of a range of `count` frames.
    ///   - progress: (iterations done, total) over every block; `false` stops.
    /// - Returns: `frames · hop` samples.
    /// - Throws: ``AnalysisError/tooFewFrames(count:minimum:)`` below ``minimumFrames``;
    ///   `CancellationError` when `progress` returns `false`.
    public func reconstruct(frameCount frames: Int, magnitudes: (Range<Int>) -> [Float],
                            progress: (Int, Int) -> Bool = { _, _ in true }) throws -> [Float] {
        let (block, overlap, hop) = (blockFrames, blockOverlap, parameters.hopLength)
        guard frames > block, block > overlap, overlap >= minimumFrames, overlap * 3 / 8 * hop >= parameters.fftSize / 2 else {
            return try reconstruct(magnitudes: magnitudes(0..<frames), frameCount: frames, progress: progress)
        }
        let fade = (overlap * 3 / 8)..<(overlap * 5 / 8)
        let blockCount = (frames - overlap + block - overlap - 1) / (block - overlap)
        var output = [Float](repeating: 0, count: frames * hop)
        var start = 0
        for index in 0..<blockCount {
            let end = index == blockCount - 1 ? frames : start + block
            let samples = try reconstruct(magnitudes: magnitudes(start..<end), frameCount: end - start) { done, _ in
                progress(index * iterations + done, blockCount * iterations)
            }
            let first = index == 0 ? 0 : fade.lowerBound * hop
            for offset in first..<samples.count {
                let weight = index == 0 ? 1 : min(1, Float(offset - first) / Float(fade.count * hop))
                output[start * hop + offset] = output[start * hop + offset] * (1 - weight) + samples[offset] * weight
            }
            start = end - overlap
        }
        return output
    }

    /// Spectral convergence `‖S − |STFT(y)|‖_F / ‖S‖_F` of a reconstruction `y` against the
    /// target magnitudes `S`, measured with the same transform.
    public func spectralConvergence(of signal: [Float], magnitudes: [Float]) -> Double {
        let measured = transform.magnitudes(of: reanalysable(signal), epsilon: 0)
        var error = 0.0, reference = 0.0
        for index in magnitudes.indices {
            let difference = Double(measured[index]) - Double(magnitudes[index])
            error += difference * difference
            reference += Double(magnitudes[index]) * Double(magnitudes[index])
        }
        return reference > 0 ? (error / reference).squareRoot() : 0
    }

    /// ISTFT of `S · angles`, cropped to the unpadded `frames · hop` samples.
    private func signal(_ magnitudes: [Float], _ angles: ComplexSpectrogram) -> [Float] {
        var spectrum = angles
        for index in magnitudes.indices {
            spectrum.real[index] *= magnitudes[index]
            spectrum.imaginary[index] *= magnitudes[index]
        }
        let padded = transform.inverse(spectrum)
        let padding = parameters.padding, length = angles.frameCount * parameters.hopLength
        return Array(padded[padding..<min(padded.count, padding + length)])
    }

    /// The signal reflect-padded as the analysis pads it, so its STFT has `frames` frames.
    private func reanalysable(_ signal: [Float]) -> [Float] {
        MelAnalyzer.reflectPadded(signal, padding: parameters.padding)
    }
}
