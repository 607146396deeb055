import Compute

extension HiFiGANGenerator {
    /// Synthesises 16-bit samples: port of Auffusion `Generator.inference(mels, lengths)`
    /// (converter.py), `(self(mels).squeeze(1) · 32768).astype("int16")[:, :lengths]`.
    ///
    /// - Parameters:
    ///   - logMel: `[B, num_mels, T]` or `[num_mels, T]`.
    ///   - length: samples to keep per waveform (`int(duration · 16000)` in the pipeline); `nil`
    ///     keeps all `hopLength · T`.
    /// - Returns: B arrays of `min(length, hopLength · T)` samples.
    /// - Throws: ``VocoderError/wrongInputShape(expected:actual:)``.
    public func int16Waveforms(_ logMel: Tensor, length: Int? = nil) throws -> [[Int16]] {
        Self.int16Samples(try self(logMel), length: length)
    }

    /// Converts waveforms to the reference's 16-bit samples, as `(x · 32768.0).astype("int16")`
    /// followed by `[:, :length]`.
    ///
    /// `x · 32768` is computed in Float (numpy keeps float32) and truncated toward zero, as
    /// numpy's cast does. Where numpy's cast is undefined, this clamps instead: at exactly ±1.0
    /// and beyond (a `tanh` output of 1.0 is reached for inputs above about 9), numpy on x86
    /// wraps +1.0 to −32768 (a full-scale click), while here +1.0 gives 32767 and anything
    /// below −1.0 gives −32768. NaN gives 0, as numpy does on x86.
    /// - Parameters:
    ///   - waveform: `[B, 1, L]` (or `[B, L]`).
    ///   - length: samples to keep per waveform; `nil`, or a length above L, keeps all L (as
    ///     Python slicing does).
    /// - Returns: B arrays of `min(length, L)` samples.
    public static func int16Samples(_ waveform: Tensor, length: Int? = nil) -> [[Int16]] {
        precondition(waveform.rank >= 2 && waveform.count % Swift.max(1, waveform.shape[0]) == 0,
                     "int16Samples: expected [B, 1, L], got \(waveform.shape)")
        precondition(length.map { $0 >= 0 } ?? true, "int16Samples: negative length")
        let batch = waveform.shape[0], samples = waveform.count / Swift.max(1, batch)
        let kept = Swift.min(length ?? samples, samples)
        return (0..<batch).map { item in
            waveform.scalars[item * samples..<item * samples + kept].map(int16Sample)
        }
    }

    /// One sample: `x · 32768` truncated toward zero, clamped to [−32768, 32767]; NaN → 0.
    public static func int16Sample(_ x: Float) -> Int16 {
        let scaled = x * 32768
        guard !scaled.isNaN else { return 0 }
        return Int16(Swift.min(Swift.max(scaled, -32768), 32767))
    }
}
