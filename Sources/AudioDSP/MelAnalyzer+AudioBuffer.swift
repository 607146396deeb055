import Compute

extension MelAnalyzer {
    /// The log-mel spectrogram of any audio buffer: mixed down to mono, resampled to
    /// ``MelParameters/sampleRate`` with ``Resampler`` when needed, then ``logMel(of:normalizePeak:)``.
    /// - Returns: `[melBinCount, frames]`.
    public func logMel(of buffer: AudioBuffer, normalizePeak: Bool = true) throws -> Tensor {
        let mono = buffer.mixedToMono()
        let resampled = try Resampler.resample(mono, to: Double(parameters.sampleRate))
        return try logMel(of: resampled.channels[0], normalizePeak: normalizePeak)
    }
}
