import AudioDSP
import Compute

/// Where inpainting regenerates: time ranges of the clip in seconds, optionally limited to a
/// frequency band in Hz, and their images on the spectrogram and the latent grid.
///
/// The user-facing counterpart of the `mask_image` of diffusers' `StableDiffusionInpaintPipeline`
/// (Auffusion `notebooks/inpainting.ipynb` sets `mask[:, :, ws:ws+W] = 1`, docs/reference.md §7.4, §7.5).
/// Ranges are clamped to the clip and merged where they overlap or touch. Every conversion rounds
/// **outward**, so a mask never shrinks: seconds → frames (100 per second at hop 160) by
/// `⌊start·fps⌋ ..< ⌈end·fps⌉` (to within 10⁻⁶ frame, so 0.16 s is frame 16 exactly); a band →
/// every mel bin whose triangular filter overlaps it (bin k spans mel points k…k+2 of
/// `librosa.mel_frequencies(n_mels + 2)`); frames and image rows → every latent cell they touch
/// (`⌊·/f⌋ ..< ⌈·/f⌉`, f = the VAE factor). diffusers instead resizes the pixel mask with
/// `F.interpolate(mode="nearest")`, which takes the top-left pixel of each f×f block; the two
/// agree when the ranges fall on multiples of f frames (0.08 s for the full model).
public struct EditMask: Sendable, Equatable {
    /// Sorted, disjoint time ranges within the clip (seconds).
    public let ranges: [Range<Double>]
    /// The frequency band (Hz), or `nil` for the whole spectrum.
    public let band: Range<Double>?
    /// The longest clip a mask is made for (10⁹ s): far past any file the toolkit reads, and
    /// short enough that its frames are counted without overflow.
    public static let longestClip = 1e9

    /// A mask over `ranges` of a clip of `clipDuration` seconds, limited to `band`.
    ///
    /// - Parameters:
    ///   - ranges: seconds; clamped to `0…clipDuration`, then merged.
    ///   - band: Hz, within `0…maximumFrequency` (the mel filterbank's top, 8000 Hz).
    /// - Throws: ``EditingError/invalidMask(_:)`` for no range, an empty range or one outside the
    ///   clip, or a clip length that is not a number in 0…``longestClip``;
    ///   ``EditingError/invalidBand(low:high:maximum:)``.
    public init(ranges: [Range<Double>], band: Range<Double>? = nil, clipDuration: Double,
                maximumFrequency: Double = 8000) throws {
        guard !ranges.isEmpty else { throw EditingError.invalidMask("give at least one mask range") }
        guard clipDuration > 0, clipDuration <= Self.longestClip else {
            throw EditingError.invalidMask("the clip's length must be between 0 and \(Self.longestClip) s, got \(clipDuration)")
        }
        var clamped: [Range<Double>] = []
        for range in ranges {
            let text = "the mask \(range.lowerBound)-\(range.upperBound) s"
            guard range.lowerBound.isFinite, range.upperBound.isFinite, !range.isEmpty else {
                throw EditingError.invalidMask("\(text) is empty; give START-END with START < END")
            }
            let lower = max(range.lowerBound, 0), upper = min(range.upperBound, clipDuration)
            guard lower < upper else {
                throw EditingError.invalidMask("\(text) lies outside the clip (0-\(clipDuration) s)")
            }
            clamped.append(lower..<upper)
        }
        var merged: [Range<Double>] = []
        for range in clamped.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        if let band {
            guard band.lowerBound >= 0, band.upperBound <= maximumFrequency, !band.isEmpty else {
                throw EditingError.invalidBand(low: band.lowerBound, high: band.upperBound, maximum: maximumFrequency)
            }
        }
        self.ranges = merged
        self.band = band
    }

    /// Spectrogram frames covered, rounding outward, cut at `frameCount`.
    public func frames(framesPerSecond: Double, frameCount: Int) -> [Range<Int>] {
        let slack = 1e-6
        return ranges.map { range in
            let lower = Int((range.lowerBound * framesPerSecond + slack).rounded(.down))
            let upper = Int((range.upperBound * framesPerSecond - slack).rounded(.up))
            return min(lower, frameCount)..<min(max(upper, lower + 1), frameCount)
        }
    }

    /// Mel bins covered (0 = lowest), every bin whose filter overlaps the band.
    public func melBins(_ parameters: MelParameters) -> Range<Int> {
        let count = parameters.melBinCount
        guard let band else { return 0..<count }
        let points = MelFilterbank.melFrequencies(count: count + 2, minimum: parameters.minimumFrequency,
                                                  maximum: parameters.maximumFrequency)
        let covered = (0..<count).filter { points[$0] < band.upperBound && points[$0 + 2] > band.lowerBound }
        guard let first = covered.first, let last = covered.last else { return 0..<0 }
        return first..<last + 1
    }

    /// Audio samples of each range at `sampleRate` (rounded to the nearest sample).
    public func samples(sampleRate: Double) -> [Range<Int>] {
        ranges.map { Int(($0.lowerBound * sampleRate).rounded())..<Int(($0.upperBound * sampleRate).rounded()) }
    }

    /// The latent mask: 1 where the latents are regenerated, 0 where they are kept.
    ///
    /// - Parameters:
    ///   - shape: the latents' shape `[1, C, mels/f, frames/f]`.
    ///   - factor: pixels per latent cell, f.
    ///   - parameters: the analysis (frames per second, mel bins, frequency range).
    /// - Returns: a tensor of `shape`, the same mask in every channel.
    public func latentMask(shape: [Int], factor: Int, parameters: MelParameters) -> Tensor {
        precondition(shape.count == 4, "EditMask: expected [1, C, h, w], got \(shape)")
        let (channels, height, width) = (shape[1], shape[2], shape[3])
        let bins = melBins(parameters)
        let melCount = parameters.melBinCount
        // Image row 0 is the highest mel bin: bins b₀..<b₁ are rows (mels − b₁)..<(mels − b₀).
        let rows = outward((melCount - bins.upperBound)..<(melCount - bins.lowerBound), factor: factor, limit: height)
        var plane = [Float](repeating: 0, count: height * width)                 // [h, w]
        for frames in frames(framesPerSecond: parameters.framesPerSecond, frameCount: width * factor) {
            let columns = outward(frames, factor: factor, limit: width)
            for row in rows { for column in columns { plane[row * width + column] = 1 } }
        }
        return Tensor(shape: shape, scalars: Array([[Float]](repeating: plane, count: channels).joined()))
    }

    /// Latent cells touched by pixels `pixels`: `⌊lower/f⌋ ..< ⌈upper/f⌉`, cut at `limit`.
    private func outward(_ pixels: Range<Int>, factor: Int, limit: Int) -> Range<Int> {
        let lower = min(pixels.lowerBound / factor, limit)
        return lower..<min(max((pixels.upperBound + factor - 1) / factor, lower), limit)
    }
}
