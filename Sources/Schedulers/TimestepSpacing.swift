/// How inference timesteps are picked from the training range (`timestep_spacing`); see
/// Lin et al., "Common Diffusion Noise Schedules and Sample Steps are Flawed" (2023), table 2.
public enum TimestepSpacing: String, Codable, Sendable, CaseIterable {
    /// `i·⌊T/N⌋ + steps_offset`: the Stable Diffusion default (e.g. 981, 961, …, 1 for N = 50).
    case leading
    /// N points evenly spread over [0, T−1], both ends included.
    case linspace
    /// `round(T − i·T/N) − 1`: always starts at T−1.
    case trailing

    /// The `count` inference timesteps of diffusers' DDIM, PNDM and Euler schedulers, largest first,
    /// before any conversion to integers (`set_timesteps` in scheduling_ddim.py, scheduling_pndm.py
    /// and scheduling_euler_discrete.py, diffusers 0.18.2).
    ///
    /// - leading: `(arange(N)·(T // N)).round()[::-1] + steps_offset`;
    /// - linspace: `linspace(0, T−1, N)[::-1]`, fractional (DDIM and PNDM round it, Euler does not);
    /// - trailing: `round(arange(T, 0, −T/N)) − 1`.
    /// `steps_offset` applies to "leading" only, as in diffusers.
    func descendingTimesteps(count: Int, trainingSteps: Int, offset: Int) -> [Double] {
        switch self {
        case .leading:
            let ratio = trainingSteps / count
            return (0..<count).reversed().map { Double($0 * ratio + offset) }
        case .linspace:
            return NumPyRanges.linspace(0, Double(trainingSteps - 1), count: count).reversed()
        case .trailing:
            let ratio = Double(trainingSteps) / Double(count)
            return NumPyRanges.arange(Double(trainingSteps), 0, step: -ratio).map { $0.roundedHalfToEven - 1 }
        }
    }
}
