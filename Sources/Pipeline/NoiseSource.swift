import Compute
import Foundation

/// Supplies every random tensor of a run: the initial latents, and any noise an edit adds.
///
/// Seeded (the default) it draws like `torch.randn(shape, generator=torch.Generator().manual_seed(seed))`
/// so a seed means the same noise as in Python. Given tensors (read from `.npy` files), it hands
/// them out in order, so a run can reproduce one made elsewhere exactly.
public struct NoiseSource: RandomSource {
    private var generator: TorchRandomSource
    private var queued: [Tensor]

    /// Noise drawn from `TorchRandomSource(seed:)`.
    public init(seed: UInt64) {
        generator = TorchRandomSource(seed: seed)
        queued = []
    }

    /// Noise taken from `tensors`, in order; once they are used up, draws come from `seed`.
    /// - Throws: ``PipelineError/nonFiniteNoise(index:)`` when a tensor holds NaN or ±∞ (it
    ///   would turn the whole run into NaN, and the output into silence).
    public init(tensors: [Tensor], seed: UInt64 = 0) throws {
        for (index, tensor) in tensors.enumerated() where !tensor.scalars.allSatisfy(\.isFinite) {
            throw PipelineError.nonFiniteNoise(index: index)
        }
        generator = TorchRandomSource(seed: seed)
        queued = tensors
    }

    /// The tensor stored in the `.npy` file at `url` first (a run made elsewhere, `--noise`), then
    /// draws from `seed`.
    /// - Throws: the file's read errors; ``PipelineError/noiseFile(path:reason:)`` (the path as
    ///   given) when the tensor holds NaN or ±∞.
    public init(file url: URL, seed: UInt64) throws {
        let tensor = try NumPyFile.read(url)
        do {
            self = try NoiseSource(tensors: [tensor], seed: seed)
        } catch let error as PipelineError {
            throw PipelineError.noiseFile(path: url.relativePath, reason: "\(error)")
        }
    }

    /// Whether the next draw comes from a given tensor.
    public var hasQueuedTensor: Bool { !queued.isEmpty }

    /// The next tensor of `shape`.
    /// - Throws: ``PipelineError/noiseShape(expected:actual:)`` when a given tensor does not match.
    public mutating func next(shape: [Int]) throws -> Tensor {
        guard !queued.isEmpty else { return generator.normal(shape: shape) }
        let tensor = queued.removeFirst()
        guard tensor.count == shape.reduce(1, *) else { throw PipelineError.noiseShape(expected: shape, actual: tensor.shape) }
        return tensor.reshaped(shape)
    }

    /// `RandomSource` conformance for the places that draw without a shape check (scheduler
    /// noise): given tensors of the wrong size are skipped in favour of the generator.
    public mutating func normal(shape: [Int]) -> Tensor {
        if let tensor = queued.first, tensor.count == shape.reduce(1, *) {
            queued.removeFirst()
            return tensor.reshaped(shape)
        }
        return generator.normal(shape: shape)
    }
}
