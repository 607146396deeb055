import Compute
import Foundation

/// The mel filterbank of `librosa.filters.mel(sr, n_fft, n_mels, fmin, fmax)` with librosa's
/// defaults `htk=False` (Slaney's mel scale) and `norm='slaney'` (each triangle scaled to unit
/// area: `2 / (f[i+2] − f[i])`), stored as float32 like librosa 0.9.2.
///
/// Triangles are evaluated in double precision and rounded to float32 before the area
/// normalisation, which is applied in double and rounded again: the same two roundings as
/// librosa's `weights[i] = max(0, min(lower, upper))` into a float32 array followed by
/// `weights *= enorm[:, None]`.
public enum MelFilterbank {
    /// The filterbank as a `[melBinCount, frequencyBinCount]` tensor.
    public static func make(_ parameters: MelParameters) -> Tensor {
        let melCount = parameters.melBinCount, binCount = parameters.frequencyBinCount
        // numpy.fft.rfftfreq(n_fft, 1/sr): k · (1 / (n · d)).
        let binSpacing = 1 / (Double(parameters.fftSize) * (1 / Double(parameters.sampleRate)))
        let fftFrequencies = (0..<binCount).map { Double($0) * binSpacing }
        let edges = melFrequencies(count: melCount + 2,
                                   minimum: parameters.minimumFrequency, maximum: parameters.maximumFrequency)
        var weights = [Float](repeating: 0, count: melCount * binCount)
        for band in 0..<melCount {
            let lowerWidth = edges[band + 1] - edges[band]
            let upperWidth = edges[band + 2] - edges[band + 1]
            let areaScale = 2 / (edges[band + 2] - edges[band])
            for bin in 0..<binCount {
                let rising = -(edges[band] - fftFrequencies[bin]) / lowerWidth
                let falling = (edges[band + 2] - fftFrequencies[bin]) / upperWidth
                let triangle = Float(max(0, min(rising, falling)))
                weights[band * binCount + bin] = Float(Double(triangle) * areaScale)
            }
        }
        return Tensor(shape: [melCount, binCount], scalars: weights)
    }

    /// `librosa.mel_frequencies(count, fmin, fmax, htk=False)`: `count` frequencies (Hz) evenly
    /// spaced on the Slaney mel scale, computed as `numpy.linspace` does (`start + i·step`,
    /// last element exactly `stop`).
    public static func melFrequencies(count: Int, minimum: Double, maximum: Double) -> [Double] {
        let low = hertzToMel(minimum), high = hertzToMel(maximum)
        let step = (high - low) / Double(count - 1)
        return (0..<count).map { index in
            melToHertz(index == count - 1 ? high : Double(index) * step + low)
        }
    }

    private static let linearStep = 200.0 / 3          // Hz per mel below 1 kHz
    private static let breakFrequency = 1000.0          // Hz where the scale turns logarithmic
    private static let breakMel = breakFrequency / linearStep
    private static let logStep = log(6.4) / 27

    /// Slaney mel of a frequency in Hz (`librosa.hz_to_mel(f, htk=False)`).
    public static func hertzToMel(_ frequency: Double) -> Double {
        frequency >= breakFrequency
            ? breakMel + log(frequency / breakFrequency) / logStep
            : frequency / linearStep
    }

    /// Frequency in Hz of a Slaney mel (`librosa.mel_to_hz(m, htk=False)`).
    public static func melToHertz(_ mel: Double) -> Double {
        mel >= breakMel
            ? breakFrequency * exp(logStep * (mel - breakMel))
            : linearStep * mel
    }
}
