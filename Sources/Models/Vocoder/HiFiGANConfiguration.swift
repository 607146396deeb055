import Compute
import Foundation

/// The architecture of a HiFi-GAN generator, decoded from a `vocoder/config.json`.
///
/// Mirrors the keys Auffusion's `Generator.__init__` reads from its config (converter.py and
/// auffusion_pipeline.py, class `Generator`, through `get_config`/`AttrDict`). The audio keys the
/// analysis needs (`n_fft`, `hop_size`, `win_size`, `fmin`, `fmax`) are decoded by
/// `AudioDSP.MelParameters` from the same file; training keys (`batch_size`, `learning_rate`,
/// `segment_size`, `dist_config`, …) are ignored. Auffusion's vocoder (docs/reference.md §2.1):
///
/// ```json
/// {"resblock": "1", "upsample_rates": [5, 4, 4, 2], "upsample_kernel_sizes": [11, 8, 8, 4],
///  "upsample_initial_channel": 512, "resblock_kernel_sizes": [3, 7, 11],
///  "resblock_dilation_sizes": [[1, 3, 5], [1, 3, 5], [1, 3, 5]], "num_mels": 256, …}
/// ```
public struct HiFiGANConfiguration: Codable, Sendable, Equatable {
    /// The residual block design, `resblock` in the JSON.
    public enum ResidualBlock: String, Codable, Sendable {
        /// `ResBlock1`: three pairs (dilated convolution, undilated convolution).
        case one = "1"
        /// `ResBlock2`: two dilated convolutions.
        case two = "2"

        /// How many dilations each kernel's block uses: 3 for `ResBlock1`, 2 for `ResBlock2`.
        public var dilationCount: Int { self == .one ? 3 : 2 }
    }

    /// `resblock`: which residual block each stage uses. (The reference takes any value other
    /// than "1" as `ResBlock2`; here only "1" and "2" decode.)
    public var residualBlock: ResidualBlock
    /// `upsample_rates`: the stride of each transposed convolution; their product is the hop.
    public var upsampleRates: [Int]
    /// `upsample_kernel_sizes`: the kernel of each transposed convolution.
    public var upsampleKernelSizes: [Int]
    /// `upsample_initial_channel`: channels after `conv_pre`; each stage halves them.
    public var upsampleInitialChannel: Int
    /// `resblock_kernel_sizes`: one residual block per kernel size in every stage.
    public var residualKernelSizes: [Int]
    /// `resblock_dilation_sizes`: the dilations of each kernel size's block.
    public var residualDilationSizes: [[Int]]
    /// `num_mels`: mel bands of the input.
    public var melBinCount: Int
    /// `sampling_rate`: sample rate of the output, in Hz, when the file gives it.
    public var sampleRate: Int?

    public init(residualBlock: ResidualBlock, upsampleRates: [Int], upsampleKernelSizes: [Int],
                upsampleInitialChannel: Int, residualKernelSizes: [Int], residualDilationSizes: [[Int]],
                melBinCount: Int, sampleRate: Int? = nil) {
        self.residualBlock = residualBlock
        self.upsampleRates = upsampleRates
        self.upsampleKernelSizes = upsampleKernelSizes
        self.upsampleInitialChannel = upsampleInitialChannel
        self.residualKernelSizes = residualKernelSizes
        self.residualDilationSizes = residualDilationSizes
        self.melBinCount = melBinCount
        self.sampleRate = sampleRate
    }

    /// Decodes and validates `config.json` (any file with the keys above), as strict JSON.
    /// - Throws: ``VocoderError/unreadableConfiguration(path:reason:)`` if the file cannot be
    ///   read, is not JSON, lacks a key, has one of the wrong type, or fails ``validate()``.
    public init(contentsOf url: URL) throws {
        do {
            self = try StrictJSON.decode(Self.self, contentsOf: url)
            try validate()
        } catch {
            throw VocoderError.unreadableConfiguration(path: url.path, reason: "\(error)")
        }
    }

    enum CodingKeys: String, CodingKey {
        case residualBlock = "resblock", upsampleRates = "upsample_rates", upsampleKernelSizes = "upsample_kernel_sizes"
        case upsampleInitialChannel = "upsample_initial_channel", residualKernelSizes = "resblock_kernel_sizes"
        case residualDilationSizes = "resblock_dilation_sizes", melBinCount = "num_mels", sampleRate = "sampling_rate"
    }

    /// A lower bound on the generator's parameters: the convolutions of its residual blocks
    /// (kernel × channels² each). Loading compares it with the weight file before building.
    /// Call after ``validate()``.
    public var minimumParameterCount: Int {
        upsampleRates.indices.reduce(0) { total, stage in
            let width = channels(afterStage: stage)
            return total + zip(residualKernelSizes, residualDilationSizes).reduce(0) { $0 + $1.0 * $1.1.count * width * width }
        }
    }

    /// Output samples per input frame: the product of the upsample rates.
    public var hopLength: Int { upsampleRates.reduce(1, *) }

    /// Channels after upsampling stage `stage` (0-based): `upsample_initial_channel / 2^(stage+1)`.
    public func channels(afterStage stage: Int) -> Int { upsampleInitialChannel >> (stage + 1) }

    /// Checks that the configuration builds a network PyTorch would accept and run.
    ///
    /// Beyond what the reference checks (it `zip`s lists of different lengths silently), every
    /// list must pair up, `upsample_initial_channel` must halve exactly at every stage,
    /// transposed-convolution kernels must cover their stride, residual kernels must be odd (an
    /// even one changes the length, and the residual sum fails in PyTorch), and each block
    /// needs exactly the number of dilations its design uses.
    /// - Throws: ``VocoderError/invalidConfiguration(reason:)`` naming the first bad key.
    public func validate() throws {
        func fail(_ reason: String) -> VocoderError { .invalidConfiguration(reason: reason) }
        try FieldBounds.check("num_mels", melBinCount, in: 1...1024, else: fail)
        if let sampleRate { try FieldBounds.check("sampling_rate", sampleRate, in: 1...768_000, else: fail) }
        try FieldBounds.check("upsample_rates", upsampleRates, count: 1...8, each: 1...64, else: fail)
        try FieldBounds.check("upsample_kernel_sizes", upsampleKernelSizes, count: 1...8, each: 1...256, else: fail)
        try FieldBounds.check("upsample_initial_channel", upsampleInitialChannel, in: 1...8192, else: fail)
        try FieldBounds.check("resblock_kernel_sizes", residualKernelSizes, count: 1...8, each: 1...63, else: fail)
        for (index, dilations) in residualDilationSizes.enumerated() {
            try FieldBounds.check("resblock_dilation_sizes[\(index)]", dilations, count: 0...8, each: 1...64, else: fail)
        }
        let stages = upsampleRates.count
        guard stages == upsampleKernelSizes.count else {
            throw fail("upsample_rates and upsample_kernel_sizes must be non-empty and of equal length")
        }
        guard channels(afterStage: stages - 1) << stages == upsampleInitialChannel else {
            throw fail("upsample_initial_channel (\(upsampleInitialChannel)) must be a positive multiple of 2^\(stages)")
        }
        for (rate, kernel) in zip(upsampleRates, upsampleKernelSizes) {
            guard rate > 0, kernel >= rate else {
                throw fail("each upsample kernel must be at least its rate (rate \(rate), kernel \(kernel))")
            }
            guard (kernel - rate) % 2 == 0 || rate > 1 else {
                throw fail("an odd kernel − rate needs a rate above 1 (output_padding 1)")
            }
        }
        guard !residualKernelSizes.isEmpty, residualKernelSizes.count == residualDilationSizes.count else {
            throw fail("resblock_kernel_sizes and resblock_dilation_sizes must be non-empty and of equal length")
        }
        let needed = residualBlock.dilationCount
        for (kernel, dilations) in zip(residualKernelSizes, residualDilationSizes) {
            guard kernel > 0, kernel % 2 == 1 else { throw fail("resblock kernel sizes must be odd (got \(kernel))") }
            guard dilations.count == needed, dilations.allSatisfy({ $0 > 0 }) else {
                throw fail("resblock \"\(residualBlock.rawValue)\" needs \(needed) positive dilations per kernel (got \(dilations))")
            }
        }
    }
}
