import Compute

/// Classifier-free guidance (Ho & Salimans 2022): `ε = ε_u + w·(ε_c − ε_u)`, with the optional
/// rescale of `AuffusionPipeline` (`rescale_noise_cfg`, Lin et al. 2023 eq. 16):
/// `ε ← φ·ε·σ(ε_c)/σ(ε) + (1 − φ)·ε`, standard deviations (unbiased) over each item's elements.
enum Guidance {
    /// Combines the `[2P, …]` U-Net output laid out `[unconditional…, conditional…]` into `[P, …]`.
    static func combine(_ output: Tensor, scale: Float, rescale: Float) -> Tensor {
        let halves = output.chunked(2, axis: 0)
        let (unconditional, conditional) = (halves[0], halves[1])
        var guided = unconditional + (conditional - unconditional) * scale
        guard rescale > 0 else { return guided }
        let batch = guided.shape[0], size = guided.count / batch
        for item in 0..<batch {
            let range = item * size..<(item + 1) * size
            let ratio = standardDeviation(conditional.scalars[range]) / standardDeviation(guided.scalars[range])
            let factor = rescale * Float(ratio) + (1 - rescale)
            for index in range { guided.scalars[index] *= factor }
        }
        return guided
    }

    private static func standardDeviation(_ values: ArraySlice<Float>) -> Double {
        let mean = values.reduce(0.0) { $0 + Double($1) } / Double(values.count)
        let squares = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
        return (squares / Double(max(values.count - 1, 1))).squareRoot()
    }
}
