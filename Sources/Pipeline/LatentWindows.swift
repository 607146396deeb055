import Compute

/// How a span wider than the model's canvas is covered by windows of the canvas's width, and how
/// what each window computes is joined back into the span.
///
/// The windows are evenly spaced, the first at column 0 and the last flush with the span's end,
/// as few as let neighbours overlap by at least a quarter of a window (``minimumOverlap``
/// reports what they got). A span no wider than the canvas is one window, and
/// every join of one window returns it unchanged: the usual run is not touched.
///
/// The denoising loop joins the windows' noise predictions at every step (``DenoiseRun``), so
/// the span is denoised as one piece whose every part the U-Net sees at the width it was trained
/// on: by a crossfade across each overlap (the default), MultiDiffusion's averaging (Bar-Tal et
/// al., ICML 2023, eq. 5 with uniform weights), or the swap of SaFa (arXiv 2502.05130), which
/// takes each overlap column from one window only, alternating in stripes that change sides
/// every step. Weights are normalised per column, so any number of windows over a column blend
/// to a convex combination. docs/editing.md ("Long clips") gives the measurements behind the default.
public struct LatentWindows: Sendable, Equatable {
    /// How overlapping windows are joined.
    public enum Join: String, Sendable, Codable, CaseIterable {
        /// Every window that covers a column counts the same (MultiDiffusion).
        case average
        /// Across an overlap the weight moves linearly from one window to the next, so each
        /// window counts most near its own centre (Mixture of Diffusers' idea, with a ramp).
        case crossfade
        /// Each overlap column comes from one window, in stripes that alternate every step (SaFa).
        case swap
    }

    /// Width of the span, in columns.
    public let spanWidth: Int
    /// Width of each window, in columns (the model's canvas).
    public let windowWidth: Int
    /// The first column of each window, increasing.
    public let offsets: [Int]

    /// Covers `spanWidth` columns with windows `windowWidth` wide, overlapping by at least
    /// `minimumOverlap` columns (default a quarter of a window).
    public init(spanWidth: Int, windowWidth: Int, minimumOverlap: Int? = nil) {
        precondition(spanWidth > 0 && windowWidth > 0, "LatentWindows: empty span or window")
        self.spanWidth = spanWidth
        self.windowWidth = windowWidth
        guard spanWidth > windowWidth else {
            offsets = [0]
            return
        }
        let overlap = min(max(minimumOverlap ?? windowWidth / 4, 1), windowWidth / 2)
        let count = Int((Double(spanWidth - overlap) / Double(windowWidth - overlap)).rounded(.up))
        let travel = spanWidth - windowWidth
        offsets = (0..<count).map { index in Int((Double(index * travel) / Double(count - 1)).rounded()) }
    }

    /// The smallest overlap between neighbours, in columns (0 for one window).
    public var minimumOverlap: Int {
        zip(offsets, offsets.dropFirst()).map { windowWidth - ($1 - $0) }.min() ?? 0
    }

    /// Whether the span needs more than one window.
    public var isWindowed: Bool { offsets.count > 1 }

    /// The columns of window `index`.
    public func columns(of index: Int) -> Range<Int> { offsets[index]..<(offsets[index] + windowWidth) }

    /// Joins `parts`, one per window, each `[…, windowWidth · scale]` along its last axis, into
    /// `[…, spanWidth · scale]`: where windows overlap, by `join` at `step`, or (`nil`) by a
    /// linear crossfade from one window to the next, for decoded images and audio.
    public func joined(_ parts: [Tensor], scale: Int = 1, join: Join? = nil, step: Int = 0) -> Tensor {
        precondition(parts.count == offsets.count, "LatentWindows: \(parts.count) parts for \(offsets.count) windows")
        guard isWindowed else { return parts[0] }
        let partWidth = windowWidth * scale, width = spanWidth * scale
        let rows = parts[0].count / partWidth
        var sum = [Float](repeating: 0, count: rows * width)
        var weights = [Float](repeating: 0, count: width)
        for (index, part) in parts.enumerated() {
            precondition(part.count == rows * partWidth, "LatentWindows: part \(index) has \(part.count) values")
            let start = offsets[index] * scale
            let weight = (0..<partWidth).map { column in self.weight(window: index, column: column / scale, join: join, step: step,
                                                                     fraction: (Float(column % scale) + 0.5) / Float(scale)) }
            let values = part.scalars
            for row in 0..<rows {
                for column in 0..<partWidth where weight[column] > 0 {
                    sum[row * width + start + column] += weight[column] * values[row * partWidth + column]
                }
            }
            for column in 0..<partWidth { weights[start + column] += weight[column] }
        }
        for row in 0..<rows {
            for column in 0..<width { sum[row * width + column] /= weights[column] }
        }
        return Tensor(shape: Array(parts[0].shape.dropLast()) + [width], scalars: sum)
    }

    /// The weight of `column` (within the window, plus `fraction` of a column for the finer grid
    /// of a scaled part) of window `index`.
    private func weight(window index: Int, column: Int, join: Join?, step: Int, fraction: Float) -> Float {
        let position = offsets[index] + column
        let previousEnd = index > 0 ? offsets[index - 1] + windowWidth : 0
        let nextStart = index + 1 < offsets.count ? offsets[index + 1] : spanWidth
        let inLeftOverlap = position < previousEnd, inRightOverlap = position >= nextStart
        guard inLeftOverlap || inRightOverlap else { return 1 }
        switch join {
        case .average:
            return 1
        case .crossfade, nil:
            let x = Float(position) + fraction
            if inLeftOverlap { return (x - Float(offsets[index])) / Float(previousEnd - offsets[index]) }
            return (Float(offsets[index] + windowWidth) - x) / Float(offsets[index] + windowWidth - nextStart)
        case .swap:
            // Overlap columns in stripes of one column, alternating between the two windows and
            // changing sides every step; `inRightOverlap` names the earlier window of the pair.
            return (position + step) % 2 == (inRightOverlap ? 0 : 1) ? 1 : 0
        }
    }
}
