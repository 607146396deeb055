import Compute

/// Everything that defines the log-mel analysis, with the Auffusion defaults.
///
/// Decodes from a HiFi-GAN `vocoder/config.json` (keys `sampling_rate`, `n_fft`, `hop_size`,
/// `win_size`, `num_mels`, `fmin`, `fmax`; a `null` or absent `fmax` means Nyquist, as librosa's
/// `fmax=None`), so a model folder can override the defaults. Other keys are ignored.
/// Defaults: Auffusion `converter.py` `mel_spectrogram(y, n_fft=2048, num_mels=256,
/// sampling_rate=16000, hop_size=160, win_size=1024, fmin=0, fmax=8000)`.
public struct MelParameters: Sendable, Equatable, Codable, CheckedConfiguration {
    /// Sample rate of the analysed audio, in Hz.
    public var sampleRate: Int = 16000
    /// FFT length, in samples.
    public var fftSize: Int = 2048
    /// Hop between frames, in samples (160 = 10 ms at 16 kHz: 100 frames per second).
    public var hopLength: Int = 160
    /// Hann window length, in samples; centred in the FFT frame when shorter (as `torch.stft`).
    public var windowLength: Int = 1024
    /// Number of mel bands.
    public var melBinCount: Int = 256
    /// Lowest filter edge, in Hz.
    public var minimumFrequency: Double = 0
    /// Highest filter edge, in Hz.
    public var maximumFrequency: Double = 8000

    /// The Auffusion defaults.
    public init() {}

    /// Creates parameters; `maximumFrequency` defaults to the Nyquist frequency.
    public init(sampleRate: Int, fftSize: Int, hopLength: Int, windowLength: Int, melBinCount: Int,
                minimumFrequency: Double = 0, maximumFrequency: Double? = nil) {
        self.sampleRate = sampleRate
        self.fftSize = fftSize
        self.hopLength = hopLength
        self.windowLength = windowLength
        self.melBinCount = melBinCount
        self.minimumFrequency = minimumFrequency
        self.maximumFrequency = maximumFrequency ?? Double(sampleRate) / 2
    }

    /// Number of one-sided frequency bins, `fftSize / 2 + 1`.
    public var frequencyBinCount: Int { fftSize / 2 + 1 }

    /// Reflect padding applied on each side before framing: `(fftSize − hopLength) / 2`.
    public var padding: Int { (fftSize - hopLength) / 2 }

    /// Frames per second of audio.
    public var framesPerSecond: Double { Double(sampleRate) / Double(hopLength) }

    /// Number of frames for `sampleCount` samples: `⌊(L + 2·padding − fftSize) / hop⌋ + 1`.
    public func frameCount(forSampleCount sampleCount: Int) -> Int {
        let padded = sampleCount + 2 * padding
        return padded < fftSize ? 0 : (padded - fftSize) / hopLength + 1
    }

    enum CodingKeys: String, CodingKey {
        case sampleRate = "sampling_rate", fftSize = "n_fft", hopLength = "hop_size", windowLength = "win_size"
        case melBinCount = "num_mels", minimumFrequency = "fmin", maximumFrequency = "fmax"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let defaults = MelParameters()
        sampleRate = try container.decodeIfPresent(Int.self, forKey: .sampleRate) ?? defaults.sampleRate
        fftSize = try container.decodeIfPresent(Int.self, forKey: .fftSize) ?? defaults.fftSize
        hopLength = try container.decodeIfPresent(Int.self, forKey: .hopLength) ?? defaults.hopLength
        windowLength = try container.decodeIfPresent(Int.self, forKey: .windowLength) ?? defaults.windowLength
        melBinCount = try container.decodeIfPresent(Int.self, forKey: .melBinCount) ?? defaults.melBinCount
        minimumFrequency = try container.decodeIfPresent(Double.self, forKey: .minimumFrequency) ?? 0
        maximumFrequency = try container.decodeIfPresent(Double.self, forKey: .maximumFrequency)
            ?? Double(sampleRate) / 2
    }

    /// Checks that the parameters describe a valid analysis of a bounded size (ranges in
    /// docs/reliability.md: an `n_fft` of 20 000 048 would make every frame a 20-million-point FFT).
    /// - Throws: ``AnalysisError/invalidParameters(_:)`` naming the first bad value.
    public func validate() throws {
        func fail(_ reason: String) -> AnalysisError { .invalidParameters(reason) }
        try FieldBounds.check("sampling_rate", sampleRate, in: 1...768_000, else: fail)
        try FieldBounds.check("n_fft", fftSize, in: 2...65536, else: fail)
        guard fftSize % 2 == 0 else { throw fail("n_fft must be even (it is \(fftSize))") }
        try FieldBounds.check("hop_size", hopLength, in: 1...fftSize, else: fail)
        try FieldBounds.check("win_size", windowLength, in: 1...fftSize, else: fail)
        try FieldBounds.check("num_mels", melBinCount, in: 1...1024, else: fail)
        guard minimumFrequency.isFinite, maximumFrequency.isFinite, minimumFrequency >= 0,
              maximumFrequency > minimumFrequency, maximumFrequency <= Double(sampleRate) / 2
        else { throw fail("need 0 ≤ fmin < fmax ≤ sampling_rate / 2 (fmin \(minimumFrequency), fmax \(maximumFrequency))") }
    }
}
