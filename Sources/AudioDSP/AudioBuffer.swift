/// Audio samples in memory: one Float array per channel (planar), at a sample rate.
///
/// Samples are nominally in [−1, 1]; values outside are kept (clipping happens only when a
/// file is written as integer PCM).
public struct AudioBuffer: Sendable, Equatable {
    /// The samples of each channel; every channel has the same length.
    public var channels: [[Float]]
    /// Samples per second, in Hz.
    public var sampleRate: Double

    /// Creates a buffer from planar channels.
    /// - Precondition: at least one channel, all of the same length, and a positive sample rate.
    public init(channels: [[Float]], sampleRate: Double) {
        precondition(!channels.isEmpty, "AudioBuffer: needs at least one channel")
        precondition(channels.allSatisfy { $0.count == channels[0].count }, "AudioBuffer: channel lengths differ")
        precondition(sampleRate > 0, "AudioBuffer: sample rate must be positive")
        self.channels = channels
        self.sampleRate = sampleRate
    }

    /// A mono buffer.
    public init(mono samples: [Float], sampleRate: Double) {
        self.init(channels: [samples], sampleRate: sampleRate)
    }

    /// Number of samples per channel.
    public var frameCount: Int { channels[0].count }

    /// Number of channels.
    public var channelCount: Int { channels.count }

    /// Length in seconds.
    public var duration: Double { Double(frameCount) / sampleRate }

    /// The single channel of a mono buffer, or the average of all channels.
    public var monoSamples: [Float] {
        guard channels.count > 1 else { return channels[0] }
        let scale = 1 / Float(channels.count)
        var mixed = [Float](repeating: 0, count: frameCount)
        for channel in channels {
            for index in mixed.indices { mixed[index] += channel[index] }
        }
        for index in mixed.indices { mixed[index] *= scale }
        return mixed
    }

    /// This buffer mixed down to one channel (the average of the channels).
    public func mixedToMono() -> AudioBuffer {
        AudioBuffer(mono: monoSamples, sampleRate: sampleRate)
    }

    /// The largest absolute sample value over all channels.
    public var peak: Float {
        channels.reduce(0) { current, channel in channel.reduce(current) { max($0, abs($1)) } }
    }
}
