import Compute
import Foundation

/// A model's `scheduler/scheduler_config.json`, key for key, as diffusers' `ConfigMixin` reads it.
///
/// Every key is optional: an absent key is `nil`, and each scheduler falls back to *its own*
/// diffusers 0.18.2 default, as `SchedulerClass.from_config(config)` does
/// (configuration_utils.py `extract_init_dict`). So Auffusion's PNDM config loaded into
/// ``DPMSolverMultistepScheduler`` brings its `timestep_spacing` "leading" and `steps_offset` 1,
/// while a config without those keys gives DPM-Solver its own "linspace" and 0. Unknown keys
/// (`_diffusers_version`, `dynamic_thresholding_ratio`, …) are ignored.
///
/// ```swift
/// let configuration = try SchedulerConfiguration(contentsOf: folder.appending(path: "scheduler/scheduler_config.json"))
/// var scheduler = try SchedulerKind.scheduler(describedBy: configuration)
/// ```
public struct SchedulerConfiguration: Codable, Sendable, Equatable {
    /// `_class_name`: the diffusers class the file was written for (`"PNDMScheduler"`, …).
    public var className: String?
    /// `num_train_timesteps` T (default 1000).
    public var trainingSteps: Int?
    /// `beta_start` (default 0.0001).
    public var betaStart: Double?
    /// `beta_end` (default 0.02).
    public var betaEnd: Double?
    /// `beta_schedule` (default linear).
    public var betaSchedule: BetaSchedule?
    /// `trained_betas`: explicit β values, which override the three keys above.
    public var trainedBetas: [Double]?
    /// `prediction_type` (default epsilon).
    public var predictionType: PredictionType?
    /// `timestep_spacing` (default leading for PNDM and DDIM, linspace for DPM-Solver and Euler).
    public var timestepSpacing: TimestepSpacing?
    /// `steps_offset` (default 0), added to "leading" timesteps.
    public var stepsOffset: Int?
    /// `set_alpha_to_one` (PNDM default false, DDIM default true): ᾱ before t = 0 is 1, else ᾱ₀.
    public var setAlphaToOne: Bool?
    /// `skip_prk_steps` (PNDM, default false): PLMS only, without Runge–Kutta warm-up.
    public var skipPRKSteps: Bool?
    /// `clip_sample` (DDIM, default true): clamp the predicted x₀.
    public var clipSample: Bool?
    /// `clip_sample_range` (DDIM, default 1).
    public var clipSampleRange: Double?
    /// `thresholding` (DDIM, DPM-Solver; default false). Dynamic thresholding is not implemented.
    public var thresholding: Bool?
    /// `rescale_betas_zero_snr` (DDIM, default false). Not implemented.
    public var rescaleBetasZeroSNR: Bool?
    /// `use_karras_sigmas` (DPM-Solver, UniPC, Euler; default false).
    public var useKarrasSigmas: Bool?
    /// `solver_order` (DPM-Solver and UniPC, default 2).
    public var solverOrder: Int?
    /// `algorithm_type` (DPM-Solver, default dpmsolver++).
    public var algorithmType: DPMSolverMultistepScheduler.AlgorithmType?
    /// `solver_type` (DPM-Solver, default midpoint; UniPC, default bh2).
    public var solverType: DPMSolverMultistepScheduler.SolverType?
    /// `lower_order_final` (DPM-Solver and UniPC, default true).
    public var lowerOrderFinal: Bool?
    /// `lambda_min_clipped` (DPM-Solver, default −∞).
    public var lambdaMinClipped: Double?
    /// `variance_type` (DPM-Solver, default none). "learned" and "learned_range" are not implemented.
    public var varianceType: String?
    /// `interpolation_type` (Euler, default linear).
    public var interpolationType: EulerDiscreteScheduler.InterpolationType?
    /// `predict_x0` (UniPC, default true): step on the model's x₀ estimate rather than its noise.
    public var predictX0: Bool?
    /// `disable_corrector` (UniPC, default none): step indices after which the corrector is skipped.
    public var disableCorrector: [Int]?

    /// A configuration with every key absent (each scheduler's own defaults).
    public init() {}

    enum CodingKeys: String, CodingKey {
        case className = "_class_name", trainingSteps = "num_train_timesteps"
        case betaStart = "beta_start", betaEnd = "beta_end", betaSchedule = "beta_schedule"
        case trainedBetas = "trained_betas", predictionType = "prediction_type"
        case timestepSpacing = "timestep_spacing", stepsOffset = "steps_offset"
        case setAlphaToOne = "set_alpha_to_one", skipPRKSteps = "skip_prk_steps"
        case clipSample = "clip_sample", clipSampleRange = "clip_sample_range"
        case thresholding, rescaleBetasZeroSNR = "rescale_betas_zero_snr"
        case useKarrasSigmas = "use_karras_sigmas", solverOrder = "solver_order"
        case algorithmType = "algorithm_type", solverType = "solver_type", lowerOrderFinal = "lower_order_final"
        case lambdaMinClipped = "lambda_min_clipped", varianceType = "variance_type"
        case interpolationType = "interpolation_type", predictX0 = "predict_x0"
        case disableCorrector = "disable_corrector"
    }

    /// Reads and validates a scheduler_config.json document, as strict JSON (``StrictJSON``).
    ///
    /// diffusers writes `lambda_min_clipped: -Infinity` (Python's JSON), which RFC 8259 JSON
    /// forbids; ``StrictJSON`` accepts Python's non-finite literals and nothing else beyond
    /// plain JSON (no JSON5).
    /// - Throws: ``SchedulerError/invalidConfiguration(scheduler:reason:)`` naming the bad key.
    public init(json: Data) throws {
        do {
            self = try StrictJSON.decode(SchedulerConfiguration.self, from: json)
            try validate()
        } catch let error as SchedulerError {
            throw error
        } catch {
            throw SchedulerError.invalidConfiguration(scheduler: "scheduler_config.json", reason: "\(error)")
        }
    }

    /// Reads a scheduler_config.json file (see ``init(json:)``): a regular file of at most
    /// ``InputFile/configurationLimit`` bytes.
    public init(contentsOf url: URL) throws {
        let data: Data
        do { data = try InputFile.contents(of: url, limit: InputFile.configurationLimit) } catch let error as InputFile.Error {
            throw SchedulerError.invalidConfiguration(scheduler: url.path, reason: error.reason)
        }
        do { try self.init(json: data) } catch SchedulerError.invalidConfiguration(_, let reason) {
            throw SchedulerError.invalidConfiguration(scheduler: url.path, reason: reason)
        }
    }

    /// Checks the ranges of the numeric keys that are present (docs/reliability.md), so that
    /// no schedule is built from a damaged file.
    /// - Throws: ``SchedulerError/invalidConfiguration(scheduler:reason:)`` naming the key.
    public func validate() throws {
        func fail(_ reason: String) -> SchedulerError { .invalidConfiguration(scheduler: "scheduler_config.json", reason: reason) }
        if let trainingSteps { try FieldBounds.check("num_train_timesteps", trainingSteps, in: 1...100_000, else: fail) }
        if let betaStart { try FieldBounds.check("beta_start", betaStart, in: 0...1, else: fail) }
        if let betaEnd { try FieldBounds.check("beta_end", betaEnd, in: 0...1, else: fail) }
        if let trainedBetas {
            try FieldBounds.check("trained_betas (count)", trainedBetas.count, in: 1...100_000, else: fail)
            for (index, beta) in trainedBetas.enumerated() { try FieldBounds.check("trained_betas[\(index)]", beta, in: 0...1, else: fail) }
        }
        if let stepsOffset { try FieldBounds.check("steps_offset", stepsOffset, in: 0...100_000, else: fail) }
        if let clipSampleRange { try FieldBounds.check("clip_sample_range", clipSampleRange, in: 1e-6...1e6, else: fail) }
        if let solverOrder { try FieldBounds.check("solver_order", solverOrder, in: 1...3, else: fail) }
        if let disableCorrector { try FieldBounds.check("disable_corrector (count)", disableCorrector.count, in: 0...100_000, else: fail) }
        if let lambdaMinClipped, lambdaMinClipped.isNaN || lambdaMinClipped == .infinity {
            throw fail("lambda_min_clipped is \(lambdaMinClipped); allowed: a finite number or -Infinity")
        }
    }
}

/// What the denoising model predicts (`prediction_type`).
public enum PredictionType: String, Codable, Sendable, CaseIterable {
    /// The noise ε (Auffusion, Stable Diffusion 1.x).
    case epsilon
    /// The velocity v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans & Ho, "Progressive Distillation", 2022, §4).
    case vPrediction = "v_prediction"
    /// The clean sample x₀.
    case sample
    /// Euler's older name for `sample`.
    case originalSample = "original_sample"
}
