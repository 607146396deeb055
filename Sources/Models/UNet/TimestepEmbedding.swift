import Compute
import Foundation

/// The U-Net's time conditioning: diffusers' `Timesteps` (sinusoidal, `get_timestep_embedding`
/// in models/embeddings.py) followed by `TimestepEmbedding` (`linear_2(silu(linear_1(·)))`).
/// Keys: `time_embedding.linear_1`, `time_embedding.linear_2`.
struct TimestepEmbedding: Sendable {
    let channels: Int
    let flipSinToCos: Bool
    let frequencyShift: Float
    let linear1: Linear
    let linear2: Linear

    init(_ parameters: Parameters, channels: Int, embeddingChannels: Int, flipSinToCos: Bool, frequencyShift: Float) {
        self.channels = channels
        self.flipSinToCos = flipSinToCos
        self.frequencyShift = frequencyShift
        linear1 = Linear(parameters["linear_1"], inputs: channels, outputs: embeddingChannels)
        linear2 = Linear(parameters["linear_2"], inputs: embeddingChannels, outputs: embeddingChannels)
    }

    /// The sinusoidal features of one timestep per batch item, `[B, channels]`:
    /// `fᵢ = exp(−ln(10000)·i / (half − shift))`, `[sin(t·f), cos(t·f)]`, or `[cos, sin]` when
    /// flipped; computed in float32 like the reference.
    func sinusoid(_ timesteps: [Float]) -> Tensor {
        let half = channels / 2
        let logPeriod = Float(-log(10000.0))
        let frequencies = (0..<half).map { Foundation.exp(logPeriod * Float($0) / (Float(half) - frequencyShift)) }
        var values = [Float](repeating: 0, count: timesteps.count * channels)
        for (item, timestep) in timesteps.enumerated() {
            for i in 0..<half {
                let angle = timestep * frequencies[i]
                let (first, second) = flipSinToCos ? (Foundation.cos(angle), Foundation.sin(angle)) : (Foundation.sin(angle), Foundation.cos(angle))
                values[item * channels + i] = first
                values[item * channels + half + i] = second
            }
        }
        return Tensor(shape: [timesteps.count, channels], scalars: values)
    }

    /// `[B]` timesteps → `[B, embeddingChannels]`.
    func callAsFunction(_ timesteps: [Float]) -> Tensor { linear2(linear1(sinusoid(timesteps)).silu()) }
}
