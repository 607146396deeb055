import Compute

/// The HiFi-GAN generator that turns Auffusion's log-mel spectrograms into waveforms: a port of
/// Auffusion `Generator` (converter.py; the same class in auffusion_pipeline.py), after Kong et
/// al. 2020, "HiFi-GAN", §2.1.
///
/// ```
/// x = conv_pre(mel)                                   Conv1d(num_mels → C, k 7, pad 3)
/// for each stage i:                                   C_i = C / 2^(i+1)
///     x = ups[i](leaky_relu(x, 0.1))                  ConvTranspose1d(2·C_i → C_i, k_i, stride u_i)
///     x = Σ_j resblocks[i·K + j](x) / K               K = len(resblock_kernel_sizes)
/// wave = tanh(conv_post(leaky_relu(x)))               default slope 0.01; Conv1d(C_last → 1, k 7, pad 3)
/// ```
///
/// The transposed convolutions are padded `(k − u)/2`, or `(k − u − 1)/2 + 1` with output padding
/// 1 when `k − u` is odd, so that each stage multiplies the length by exactly `u`. Every
/// convolution has a bias. Keys are those of the reference module (`conv_pre.*`, `ups.i.*`,
/// `resblocks.n.convs1.m.*`, `conv_post.*`), weight-normalised or folded (``WeightNorm``).
///
/// ```swift
/// let vocoder = try HiFiGANGenerator(directory: model.appending(path: "vocoder"))
/// let waveform = try vocoder(logMel)          // [256, T] → [1, 1, 160·T], in (−1, 1)
/// ```
public struct HiFiGANGenerator: Sendable {
    public let configuration: HiFiGANConfiguration
    let convPre: Conv1d
    let upsamplers: [ConvTranspose1d]
    /// Stage-major: block `i·K + j` is stage `i`'s block for kernel size `j`.
    let residualBlocks: [HiFiGANResidualBlock]
    let convPost: Conv1d

    /// The leaky ReLU slope inside the network (`LRELU_SLOPE` in the reference).
    static let slope: Float = 0.1

    /// Builds the generator of `configuration` with parameters from `parameters`.
    ///
    /// Parameter problems are collected by the ``ParameterLoader`` behind `parameters`; call its
    /// `finish()` afterwards.
    /// - Parameters:
    ///   - norm: whether the checkpoint stores `weight_g`/`weight_v` or `weight`.
    /// - Throws: ``VocoderError/invalidConfiguration(reason:)`` if the configuration describes no
    ///   network (see ``HiFiGANConfiguration/validate()``).
    public init(configuration: HiFiGANConfiguration, parameters: Parameters, norm: WeightNorm) throws {
        try configuration.validate()
        self.configuration = configuration
        let initial = configuration.upsampleInitialChannel
        convPre = Conv1d(parameters["conv_pre"], inputs: configuration.melBinCount, outputs: initial, kernel: 7,
                         padding: 3, norm: norm)
        var upsamplers: [ConvTranspose1d] = [], blocks: [HiFiGANResidualBlock] = []
        for (stage, (rate, kernel)) in zip(configuration.upsampleRates, configuration.upsampleKernelSizes).enumerated() {
            let channels = configuration.channels(afterStage: stage)
            let outputPadding = (kernel - rate) % 2
            upsamplers.append(ConvTranspose1d(parameters["ups", stage], inputs: 2 * channels, outputs: channels,
                                              kernel: kernel, stride: rate, padding: (kernel - rate) / 2 + outputPadding,
                                              outputPadding: outputPadding, norm: norm))
            for (size, dilations) in zip(configuration.residualKernelSizes, configuration.residualDilationSizes) {
                blocks.append(HiFiGANResidualBlock(parameters["resblocks", blocks.count], design: configuration.residualBlock,
                                                   channels: channels, kernel: size, dilations: dilations, norm: norm))
            }
        }
        self.upsamplers = upsamplers
        residualBlocks = blocks
        convPost = Conv1d(parameters["conv_post"], inputs: configuration.channels(afterStage: upsamplers.count - 1),
                          outputs: 1, kernel: 7, padding: 3, norm: norm)
    }

    /// Output samples per input frame (the product of the upsample rates; 160 for Auffusion).
    public var hopLength: Int { configuration.hopLength }

    /// Synthesises waveforms from log-mel spectrograms (natural log, as `AudioDSP.MelAnalyzer`).
    ///
    /// - Parameter logMel: `[B, num_mels, T]`, or `[num_mels, T]` for one spectrogram (then B = 1).
    /// - Returns: `[B, 1, hopLength · T]`, every sample in [−1, 1].
    /// - Throws: ``VocoderError/wrongInputShape(expected:actual:)`` for any other shape or T = 0.
    /// - Complexity: about 145 G multiply-adds per 1,000 frames for Auffusion's vocoder.
    public func callAsFunction(_ logMel: Tensor) throws -> Tensor {
        let mels = configuration.melBinCount
        let batched = logMel.rank == 2 ? logMel.reshaped([1] + logMel.shape) : logMel  // [mels, T] -> [1, mels, T]
        guard batched.rank == 3, batched.shape[0] > 0, batched.shape[1] == mels, batched.shape[2] > 0 else {
            throw VocoderError.wrongInputShape(expected: "[B, \(mels), T] or [\(mels), T] with B, T ≥ 1", actual: logMel.shape)
        }
        let kernelCount = configuration.residualKernelSizes.count
        var x = convPre(batched)                                           // [B, mels, T] -> [B, C, T]
        for (stage, upsample) in upsamplers.enumerated() {
            x = upsample(x.leakyReLU(slope: Self.slope))                   // [B, 2C_i, L] -> [B, C_i, u_i·L]
            x = Self.mean(of: residualBlocks[stage * kernelCount..<(stage + 1) * kernelCount], x)
        }
        return convPost(x, inputSlope: 0.01).tanh()                        // [B, C_last, L] -> [B, 1, L]
    }

    /// Output positions of one piece of ``mean(of:_:)`` for `channels` channels: about 128 Ki floats
    /// of activations (512 KB, so that several stay in a core's L2 cache), at least 2048 positions
    /// (the pieces overlap by twice the blocks' reach, 60 positions for Auffusion's last stages).
    static func piecePositions(channels: Int) -> Int { Swift.max(2048, (128 << 10) / Swift.max(1, channels)) }

    /// `Σ_j blocks[j](x) / K`, `x` `[B, C, L]`. Long signals go in pieces of ``piecePositions``
    /// outputs, each on one thread through every block with the `reach` inputs on either side that
    /// its outputs depend on (zero padding stays at the signal's own ends): each piece's
    /// activations stay in cache from one convolution to the next, where the whole signal's (tens
    /// of megabytes at the last stages) would go through memory at every one, and the threads
    /// share no convolution. Each output is the same sum as without pieces.
    static func mean(of blocks: ArraySlice<HiFiGANResidualBlock>, _ x: Tensor) -> Tensor {
        let (batch, channels, length) = (x.shape[0], x.shape[1], x.shape[2])
        // Transform the blocks' weights once for this stage (for every piece, when in pieces).
        let blocks = blocks.map { $0.preparingWinograd() }
        let size = piecePositions(channels: channels)
        guard channels <= 128, length >= 2 * size else { return mean(of: blocks, whole: x) }
        let pieces = (length + size - 1) / size, reach = blocks.map(\.reach).max() ?? 0
        let output = [Float](unsafeUninitializedCapacity: x.count) { y, initialized in
            x.scalars.withUnsafeBufferPointer { source in
                ComputeThreads.parallelFor(batch * pieces) { chunk in
                    let (item, piece) = chunk.quotientAndRemainder(dividingBy: pieces)
                    let outputs = piece * size..<Swift.min(length, (piece + 1) * size)
                    let inputs = Swift.max(0, outputs.lowerBound - reach)..<Swift.min(length, outputs.upperBound + reach)
                    var slice = [Float](repeating: 0, count: channels * inputs.count)
                    for channel in 0..<channels {
                        let row = (item * channels + channel) * length
                        for index in inputs.indices { slice[channel * inputs.count + index - inputs.lowerBound] = source[row + index] }
                    }
                    let signal = Tensor(shape: [1, channels, inputs.count], scalars: slice)
                    let results = blocks.map { $0(signal).scalars }
                    let offset = outputs.lowerBound - inputs.lowerBound
                    // The mean of the pieces' outputs, summed in the order of `mean(of:whole:)`.
                    for channel in 0..<channels {
                        let row = (item * channels + channel) * length + outputs.lowerBound
                        for index in 0..<outputs.count {
                            let at = channel * inputs.count + offset + index
                            var sum = results[0][at]
                            for result in results.dropFirst() { sum += result[at] }
                            y[row + index] = sum / Float(results.count)
                        }
                    }
                }
            }
            initialized = x.count
        }
        return Tensor(shape: x.shape, scalars: output)
    }

    /// `Σ_j blocks[j](x) / K` on the whole of `x`.
    private static func mean(of blocks: [HiFiGANResidualBlock], whole x: Tensor) -> Tensor {
        var sum = blocks[0](x)
        for block in blocks.dropFirst() { sum.add(block(x)) }
        return sum.map { $0 / Float(blocks.count) }                       // mean over the K blocks
    }
}
