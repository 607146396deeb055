import AudioDSP

/// How loud a fill is made (docs/editing.md, "The fill's level").
public enum FillLevel: String, Sendable, Codable, CaseIterable {
    /// At the level of the audio around it: each channel's band RMS (``BandLevel``) over up to
    /// ``FillPlacement/contextSeconds`` on each side of the range, so that a fill in a quiet
    /// passage is quiet and one in a loud passage loud. Falls back to ``raw`` where there is no
    /// context or it is silent (below ``FillPlacement/silence``).
    case context
    /// The model's output with the analysis' peak normalisation undone (× the clip's peak / 0.95):
    /// its level relative to the clip's loudest sample, the same on every channel.
    case raw
}

/// Audio the model generated for a time range of the user's file: what an edit hands to the
/// finishing step (``FillPlacement``, ``EditedFile``), which brings it to the file's rate and
/// channels, sets its level and splices it in.
public struct Fill: Sendable {
    /// The seconds of the file it replaces.
    public var range: Range<Double>
    /// The band it replaces, in Hz; `nil` for the whole spectrum.
    public var band: Range<Double>?
    /// The generated audio: mono, at the model's rate, its first sample at ``start`` seconds of the
    /// file; it should reach past ``range`` where the file does (the splice reads a little around it).
    public var audio: AudioBuffer
    /// Where ``audio`` starts in the file, seconds.
    public var start: Double
    /// The factor that undoes the analysis' peak normalisation (the analysed clip's peak / 0.95).
    public var analysisGain: Float
    /// How loud the fill is made.
    public var level: FillLevel

    public init(range: Range<Double>, band: Range<Double>?, audio: AudioBuffer, start: Double, analysisGain: Float,
                level: FillLevel) {
        precondition(audio.channelCount == 1, "Fill: the generated audio is mono")
        self.range = range
        self.band = band
        self.audio = audio
        self.start = start
        self.analysisGain = analysisGain
        self.level = level
    }

    /// The same fill for a file in which this one's seconds start at `offset` seconds.
    public func shifted(by offset: Double) -> Fill {
        var fill = self
        fill.range = (range.lowerBound + offset)..<(range.upperBound + offset)
        fill.start += offset
        return fill
    }
}

/// What the finishing step did to one fill, for `--json` and for the docs' figures.
public struct FillReport: Sendable, Equatable {
    /// The frames of the file replaced.
    public var frames: Range<Int>
    /// The level rule that applied (``FillLevel/raw`` when the context was missing or silent).
    public var level: FillLevel
    /// The context's band RMS per channel, dBFS (`nil` when not measured).
    public var contextDecibels: [Double]?
    /// The gain applied to the model's audio on each channel, dB.
    public var gainDecibels: [Double]
    /// The peak limiter's largest gain reduction, dB (0 when no peak passed
    /// ``FillPlacement/ceiling``).
    public var limiterDecibels: Double

    /// Whether the peak limiter acted.
    public var limited: Bool { limiterDecibels < 0 }
}
