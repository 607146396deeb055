import Foundation

/// The noise levels of Karras et al., "Elucidating the Design Space of Diffusion-Based Generative
/// Models" (NeurIPS 2022), eq. 5 with ρ = 7, and the map from a noise level back to a fractional
/// training timestep, as diffusers 0.18.2 computes them in float64 NumPy
/// (`_convert_to_karras` and `_sigma_to_t`, identical in schedulers/scheduling_euler_discrete.py
/// and scheduling_dpmsolver_multistep.py).
enum KarrasSigmas {
    /// `count` levels from `first` to `last`, evenly spaced in σ^(1/ρ):
    /// `(first^(1/ρ) + i/(count−1)·(last^(1/ρ) − first^(1/ρ)))^ρ`.
    ///
    /// diffusers passes `in_sigmas[0]` as `first` and `in_sigmas[-1]` as `last` (its names
    /// `sigma_max`/`sigma_min` hold only for Euler, whose input is descending; DPM-Solver passes
    /// the ascending training table and flips the timesteps afterwards).
    static func sigmas(from first: Double, to last: Double, count: Int) -> [Double] {
        let rho = 7.0
        let firstRoot = pow(first, 1 / rho), lastRoot = pow(last, 1 / rho)
        return NumPyRanges.linspace(0, 1, count: count).map { ramp in
            pow(firstRoot + ramp * (lastRoot - firstRoot), rho)
        }
    }

    /// The fractional training timestep whose σ is `sigma`: linear interpolation of log σ between
    /// the two table entries around it (`_sigma_to_t`).
    ///
    /// NumPy's mixed-precision rules are kept: the distances `log σ − logSigmas[j]` are float32
    /// (a float64 scalar against a float32 array), the weight is float64. diffusers evaluates the
    /// logarithms with NumPy's SIMD `log`, which differs from the correctly rounded logarithm used
    /// here by an ulp or so; the resulting timesteps differ by less than 1e-4 (fractional Euler
    /// timesteps) and round to the same integers (DPM-Solver).
    ///
    /// - Parameters:
    ///   - sigma: a noise level within the table's range.
    ///   - logSigmas: log σ_t of the training table, t = 0…T−1, ascending (T ≥ 2).
    static func timestep(for sigma: Double, logSigmas: [Float]) -> Double {
        let logSigma = log(sigma)
        let narrowed = Float(logSigma)
        // argmax(cumsum(dists >= 0)): the last index whose log σ does not exceed ours, or 0.
        var low = 0
        for (index, value) in logSigmas.enumerated() where narrowed - value >= 0 { low = index }
        low = min(low, logSigmas.count - 2)
        let lowValue = logSigmas[low], highValue = logSigmas[low + 1]
        let weight = min(max((Double(lowValue) - logSigma) / Double(lowValue - highValue), 0), 1)
        return (1 - weight) * Double(low) + weight * Double(low + 1)
    }

    /// log σ_t of a float32 table, each rounded to float32 (NumPy's `np.log` of a float32 array).
    static func logarithms(_ sigmas: [Float]) -> [Float] {
        sigmas.map { Float(log(Double($0))) }
    }
}
