import Compute
import Foundation

/// How the training noise levels β₁…β_T are spaced (`beta_schedule` in scheduler_config.json).
///
/// Matches the constructors of diffusers 0.18.2's schedulers (schedulers/scheduling_ddim.py and
/// siblings, `__init__`), value for value in float32:
/// - `linear`: `torch.linspace(beta_start, beta_end, T)`;
/// - `scaled_linear`: `torch.linspace(√beta_start, √beta_end, T)²` (Stable Diffusion, Auffusion);
/// - `squaredcos_cap_v2`: `betas_for_alpha_bar(T)`, the cosine schedule of Nichol & Dhariwal,
///   "Improved Denoising Diffusion Probabilistic Models" (2021), eq. 17, with β capped at 0.999.
public enum BetaSchedule: String, Codable, Sendable, CaseIterable {
    case linear
    case scaledLinear = "scaled_linear"
    case squaredcosCapV2 = "squaredcos_cap_v2"

    /// The `count` betas of this schedule.
    ///
    /// - Parameters:
    ///   - count: the number of training timesteps T (≥ 1).
    ///   - start: `beta_start` (unused by `squaredcos_cap_v2`).
    ///   - end: `beta_end` (unused by `squaredcos_cap_v2`).
    /// - Returns: β₁…β_T as float32.
    public func betas(count: Int, start: Double, end: Double) -> [Float] {
        switch self {
        case .linear:
            return Self.torchLinspace(Float(start), Float(end), count: count)
        case .scaledLinear:
            // Python's `beta_start**0.5` is C pow, not sqrt; the square is torch's `x * x`.
            return Self.torchLinspace(Float(pow(start, 0.5)), Float(pow(end, 0.5)), count: count).map { $0 * $0 }
        case .squaredcosCapV2:
            func alphaBar(_ t: Double) -> Double { pow(cos((t + 0.008) / 1.008 * Double.pi / 2), 2) }
            return (0..<count).map { i in
                let t1 = Double(i) / Double(count), t2 = Double(i + 1) / Double(count)
                return Float(min(1 - alphaBar(t2) / alphaBar(t1), 0.999))
            }
        }
    }

    /// `torch.linspace(start, end, count, dtype=torch.float32)` on the CPU (torch 2.0.1, ATen
    /// `native/cpu/RangeFactoriesKernel.cpp` `linspace_kernel`), bit for bit.
    ///
    /// With `step = (end − start) / (count − 1)` in float32, torch computes the first half from the
    /// start and the second from the end: `start + step·i` for `i < count/2`, else
    /// `end − step·(count − 1 − i)`. Its AVX2 build contracts each of these into one fused
    /// multiply–add, so each element is rounded once.
    static func torchLinspace(_ start: Float, _ end: Float, count: Int) -> [Float] {
        guard count > 1 else { return count == 1 ? [start] : [] }
        let step = (end - start) / Float(count - 1)
        return (0..<count).map { i in
            i < count / 2 ? start.addingProduct(step, Float(i)) : end.addingProduct(-step, Float(count - 1 - i))
        }
    }
}

/// The training noise schedule a scheduler steps along: β_t and ᾱ_t = ∏_{s≤t}(1 − β_s), in float32
/// exactly as diffusers 0.18.2 builds them (`self.betas`, `self.alphas_cumprod`).
///
/// `torch.cumprod` on the CPU accumulates float32 inputs in double and rounds each partial product
/// to float32 (ATen `cumprod` uses `acc_type<float, false> = double`), and so does this type: ᾱ
/// agrees with torch bit for bit.
public struct NoiseSchedule: Sendable, Equatable {
    /// β_t for t = 0…T−1.
    public let betas: [Float]
    /// ᾱ_t for t = 0…T−1 (`alphas_cumprod`).
    public let alphasCumprod: [Float]

    /// The number of training timesteps T.
    public var trainingSteps: Int { betas.count }

    /// σ_t = √((1 − ᾱ_t)/ᾱ_t), the noise-to-signal ratio Euler and the Karras schedule work with,
    /// in float32 as diffusers computes it (`((1 - alphas_cumprod) / alphas_cumprod) ** 0.5`), with
    /// the IEEE square root: torch 2.0.1 on x86 takes `** 0.5` from MKL's `vsSqrt`, which is 1 ulp
    /// away for about one entry in five.
    public var sigmas: [Float] { alphasCumprod.map { ((1 - $0) / $0).squareRoot() } }

    /// A schedule from its betas (`trained_betas`, or those of a ``BetaSchedule``).
    public init(betas: [Float]) {
        self.betas = betas
        var product = 1.0
        alphasCumprod = betas.map { beta in
            product *= Double(1 - beta)   // `1.0 - betas` in float32, accumulated in double
            return Float(product)
        }
    }

    /// The schedule a configuration describes, with diffusers' defaults for absent keys
    /// (1000 steps, linear from 0.0001 to 0.02); `trained_betas`, when given, wins.
    ///
    /// - Parameters:
    ///   - configuration: the scheduler_config.json keys.
    ///   - scheduler: the scheduler's name, for error messages.
    /// - Throws: ``SchedulerError/invalidConfiguration(scheduler:reason:)`` when `trained_betas` does
    ///   not have `num_train_timesteps` values or the step count is not positive.
    public init(configuration: SchedulerConfiguration, scheduler: String) throws {
        let count = configuration.trainingSteps ?? 1000
        if let trained = configuration.trainedBetas {
            guard trained.count == count else {
                throw SchedulerError.invalidConfiguration(
                    scheduler: scheduler, reason: "trained_betas has \(trained.count) values for \(count) timesteps")
            }
            self.init(betas: trained.map { Float($0) })
            return
        }
        guard count > 0 else {
            throw SchedulerError.invalidConfiguration(scheduler: scheduler, reason: "num_train_timesteps is \(count)")
        }
        let schedule = configuration.betaSchedule ?? .linear
        self.init(betas: schedule.betas(count: count, start: configuration.betaStart ?? 0.0001,
                                        end: configuration.betaEnd ?? 0.02))
    }

    /// ᾱ_t, after checking that `t` is a training timestep.
    func alphaProduct(at timestep: Int) throws -> Float {
        guard timestep >= 0 && timestep < trainingSteps else {
            throw SchedulerError.timestepOutOfRange(timestep, trainingSteps: trainingSteps)
        }
        return alphasCumprod[timestep]
    }
}

extension NoiseSchedule {
    /// The training timestep a schedule entry stands for: `timestep` must be a whole number.
    func trainingTimestep(_ timestep: Float) throws -> Int {
        guard let index = Int(exactly: timestep) else { throw SchedulerError.timestepNotInSchedule(timestep) }
        return index
    }

    /// `add_noise` of the ᾱ-indexed schedulers (PNDM, DDIM, DPM-Solver; identical in all three):
    /// `√ᾱ_t · x₀ + √(1 − ᾱ_t) · ε`, with both factors rounded to float32 first as torch does.
    ///
    /// - Parameters:
    ///   - original: x₀ `[B, C, H, W]`.
    ///   - noise: ε, same shape.
    ///   - timestep: a whole training timestep.
    /// - Returns: the noisy sample, same shape.
    func addNoise(original: Tensor, noise: Tensor, timestep: Float) throws -> Tensor {
        Elementwise.requireSameShape(original, noise, scheduler: "add_noise")
        let alpha = try alphaProduct(at: trainingTimestep(timestep))
        let signal = alpha.squareRoot(), spread = (1 - alpha).squareRoot()
        let x = original.scalars, n = noise.scalars
        return Elementwise.tabulate(original.shape) { signal * x[$0] + spread * n[$0] }
    }
}
