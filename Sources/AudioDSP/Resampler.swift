import CSampleRate
import Compute

/// Sample-rate conversion with libsamplerate's best-quality sinc converter
/// (`SRC_SINC_BEST_QUALITY`: 97 dB SNR, 97 % bandwidth).
///
/// The Auffusion reference never resamples (it assumes 16 kHz input); this is a port addition so
/// that any recording can be analysed. The best-quality converter is slow (about 0.7 µs per input
/// sample), so long signals between integer rates are cut into pieces converted in parallel:
/// each piece starts and ends on an exact period of the rate ratio (441 → 160 samples for
/// 44.1 → 16 kHz) and is fed with 4096 samples of context on each side, far more than the
/// filter's reach, so the pieces join without a seam.
public enum Resampler {
    /// Why a conversion failed.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Input samples of context on each side of a parallel piece (the best-quality filter
    /// reaches about 400 input samples at a 44.1 → 16 kHz ratio).
    static let context = 4096

    /// Zeros appended to every channel, so that the last output sample lies well inside the
    /// input (libsamplerate treats the end of input as zeros anyway; without the explicit tail,
    /// rounding of its read position can drop the final sample depending on where a piece starts).
    static let tail = 256

    /// Returns `buffer` at `targetRate` Hz, channel by channel. A buffer already at the rate is
    /// returned unchanged. The output has `round(frames · targetRate / sourceRate)` samples.
    /// - Parameter parallelism: number of pieces converted at once (default: ``ComputeThreads/count``).
    /// - Throws: ``Failure`` when libsamplerate rejects the ratio (outside 1/256…256).
    public static func resample(_ buffer: AudioBuffer, to targetRate: Double,
                                parallelism: Int = ComputeThreads.count) throws -> AudioBuffer {
        guard buffer.sampleRate != targetRate else { return buffer }
        let ratio = targetRate / buffer.sampleRate
        guard ratio.isFinite, ratio > 0, src_is_valid_ratio(ratio) != 0 else {
            throw Failure(description: "cannot resample from \(buffer.sampleRate) Hz to \(targetRate) Hz")
        }
        let outputCount = Int((Double(buffer.frameCount) * ratio).rounded())
        let pieces = plan(inputCount: buffer.frameCount + tail, outputCount: outputCount, sourceRate: buffer.sampleRate,
                          targetRate: targetRate, parallelism: parallelism)
        var channels: [[Float]] = []
        for channel in buffer.channels {
            let samples = channel + [Float](repeating: 0, count: tail)
            var output = [Float](repeating: 0, count: outputCount)
            var failure: Int32 = 0
            output.withUnsafeMutableBufferPointer { destination in
                ComputeThreads.parallelFor(pieces.count) { index in
                    let status = convert(samples, piece: pieces[index], ratio: ratio, into: destination)
                    if status != 0 { failure = status }
                }
            }
            guard failure == 0 else {
                throw Failure(description: "libsamplerate: " + String(cString: src_strerror(failure)))
            }
            channels.append(output)
        }
        return AudioBuffer(channels: channels, sampleRate: targetRate)
    }

    /// One piece of a conversion: the output range it produces and the input range it reads.
    struct Piece {
        var output: Range<Int>
        var input: Range<Int>
        /// Output samples produced from the context before `output` (discarded).
        var skipped: Int
    }

    /// Cuts the conversion into pieces aligned on whole periods of the ratio, or one piece when
    /// the rates are not integers or the signal is short.
    static func plan(inputCount: Int, outputCount: Int, sourceRate: Double, targetRate: Double,
                     parallelism: Int) -> [Piece] {
        let whole = [Piece(output: 0..<outputCount, input: 0..<inputCount, skipped: 0)]
        guard parallelism > 1, sourceRate == sourceRate.rounded(), targetRate == targetRate.rounded() else { return whole }
        let (source, target) = (Int(sourceRate), Int(targetRate))
        let divisor = greatestCommonDivisor(source, target)
        let (inputPeriod, outputPeriod) = (source / divisor, target / divisor)
        let periods = inputCount / inputPeriod
        let contextPeriods = (context + inputPeriod - 1) / inputPeriod
        guard periods >= parallelism * 4 * contextPeriods else { return whole }
        let perPiece = (periods + parallelism - 1) / parallelism
        return (0..<parallelism).map { index in
            let firstPeriod = index * perPiece, lastPeriod = min(periods, (index + 1) * perPiece)
            let isLast = index == parallelism - 1
            let outputStart = firstPeriod * outputPeriod
            let outputEnd = isLast ? outputCount : lastPeriod * outputPeriod
            let inputStart = max(0, firstPeriod - contextPeriods) * inputPeriod
            let inputEnd = isLast ? inputCount : min(inputCount, (lastPeriod + contextPeriods) * inputPeriod)
            return Piece(output: outputStart..<outputEnd, input: inputStart..<inputEnd,
                         skipped: (firstPeriod * inputPeriod - inputStart) / inputPeriod * outputPeriod)
        }
    }

    /// Converts one piece into its range of `destination`; returns libsamplerate's status.
    private static func convert(_ samples: [Float], piece: Piece, ratio: Double,
                                into destination: UnsafeMutableBufferPointer<Float>) -> Int32 {
        let wanted = piece.skipped + piece.output.count
        var produced = [Float](repeating: 0, count: wanted + 64)
        var data = SRC_DATA()
        let status: Int32 = samples.withUnsafeBufferPointer { input in
            produced.withUnsafeMutableBufferPointer { out in
                data.data_in = input.baseAddress.map { $0 + piece.input.lowerBound }
                data.data_out = out.baseAddress
                data.input_frames = piece.input.count
                data.output_frames = out.count
                data.src_ratio = ratio
                data.end_of_input = 1
                return src_simple(&data, Int32(SRC_SINC_BEST_QUALITY), 1)
            }
        }
        guard status == 0 else { return status }
        let available = max(0, min(Int(data.output_frames_gen) - piece.skipped, piece.output.count))
        for offset in 0..<available {
            destination[piece.output.lowerBound + offset] = produced[piece.skipped + offset]
        }
        return 0
    }

    private static func greatestCommonDivisor(_ a: Int, _ b: Int) -> Int { b == 0 ? a : greatestCommonDivisor(b, a % b) }
}
