/// Where the work around the denoising loop is — encoding a clip, decoding latents, vocoding —
/// for progress reporting; the handler returns `false` to cancel (``PipelineError/cancelled``).
///
/// A clip longer than the canvas is encoded and decoded window by window (``LatentWindows``), and
/// each window takes seconds on a full-size model, so a ten-minute clip would otherwise sit silent
/// for minutes before its first step and after its last.
public struct RenderProgress: Sendable, Equatable {
    public enum Stage: String, Sendable {
        /// The VAE encoder, window by window.
        case encoding
        /// The VAE decoder, window by window.
        case decoding
        /// HiFi-GAN window by window, or Griffin-Lim iteration by iteration over its blocks.
        case vocoding
    }

    public var stage: Stage
    /// Units of ``stage`` done (windows, or Griffin-Lim's iterations), 1…``total``.
    public var done: Int
    public var total: Int

    public init(stage: Stage, done: Int, total: Int) {
        self.stage = stage
        self.done = done
        self.total = total
    }
}
