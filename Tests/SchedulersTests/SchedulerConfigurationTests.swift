import Compute
import Foundation
import Schedulers
import Testing
import TestSupport

/// scheduler_config.json decoding, per-scheduler defaults (diffusers' `from_config`), the settings
/// this port refuses, and `SchedulerKind`.
@Suite("Scheduler configuration")
struct SchedulerConfigurationTests {
    /// Auffusion's file (spec 6.1), as diffusers 0.18.2 writes it.
    static let auffusionJSON = """
    {
      "_class_name": "PNDMScheduler",
      "_diffusers_version": "0.18.2",
      "beta_end": 0.012,
      "beta_schedule": "scaled_linear",
      "beta_start": 0.00085,
      "clip_sample": false,
      "num_train_timesteps": 1000,
      "prediction_type": "epsilon",
      "set_alpha_to_one": false,
      "skip_prk_steps": true,
      "steps_offset": 1,
      "timestep_spacing": "leading",
      "trained_betas": null
    }
    """

    @Test func decodesAuffusionsFile() throws {
        let configuration = try SchedulerConfiguration(json: Data(Self.auffusionJSON.utf8))
        #expect(configuration == .auffusion)
        var scheduler = try SchedulerKind.scheduler(describedBy: configuration)
        #expect(scheduler is PNDMScheduler)
        #expect(try scheduler.setTimesteps(stepCount: 10) == [901, 801, 801, 701, 601, 501, 401, 301, 201, 101, 1])
    }

    /// diffusers writes `-Infinity` for DPM-Solver's default `lambda_min_clipped`.
    @Test func acceptsPythonsInfinityAndIgnoresUnknownKeys() throws {
        let json = #"{"_class_name": "DPMSolverMultistepScheduler", "lambda_min_clipped": -Infinity, "#
            + #""dynamic_thresholding_ratio": 0.995, "sample_max_value": 1.0, "euler_at_final": false}"#
        let configuration = try SchedulerConfiguration(json: Data(json.utf8))
        #expect(configuration.lambdaMinClipped == -.infinity)
        let scheduler = try #require(try SchedulerKind.scheduler(describedBy: configuration) as? DPMSolverMultistepScheduler)
        #expect(scheduler.lambdaMinClipped == -.infinity)
    }

    @Test func reportsTheKeyOfABadValue() {
        #expect {
            try SchedulerConfiguration(json: Data(#"{"beta_schedule": "sigmoid"}"#.utf8))
        } throws: { error in
            guard case SchedulerError.invalidConfiguration(_, let reason) = error else { return false }
            return reason.contains("beta_schedule")
        }
    }

    /// Spec 6.4: a PNDM config loaded into DPM-Solver brings "leading" and offset 1; without those
    /// keys each scheduler uses its own defaults.
    @Test func absentKeysTakeEachSchedulersOwnDefaults() throws {
        let dpm = try DPMSolverMultistepScheduler(configuration: .auffusion)
        #expect(dpm.timestepSpacing == .leading && dpm.stepsOffset == 1)
        let bare = SchedulerConfiguration()
        #expect(try DPMSolverMultistepScheduler(configuration: bare).timestepSpacing == .linspace)
        #expect(try EulerDiscreteScheduler(configuration: bare).timestepSpacing == .linspace)
        let ddim = try DDIMScheduler(configuration: bare)
        #expect(ddim.timestepSpacing == .leading && ddim.clipSample && ddim.finalAlphaCumprod == 1)
        let uniPC = try UniPCMultistepScheduler(configuration: .auffusion)
        #expect(uniPC.timestepSpacing == .leading && uniPC.stepsOffset == 1 && uniPC.solverOrder == 2)
        #expect(uniPC.solverType == .bh2 && uniPC.predictsX0 && uniPC.lowerOrderFinal && uniPC.disabledCorrectorSteps.isEmpty)
        #expect(try UniPCMultistepScheduler(configuration: bare).timestepSpacing == .linspace)
        var dpmSettings = SchedulerConfiguration.auffusion
        dpmSettings.solverType = .midpoint   // a DPM-Solver config swapped to UniPC: bh2, as diffusers maps it
        #expect(try UniPCMultistepScheduler(configuration: dpmSettings).solverType == .bh2)
        let ddimFromAuffusion = try DDIMScheduler(configuration: .auffusion)
        #expect(!ddimFromAuffusion.clipSample && ddimFromAuffusion.finalAlphaCumprod == ddimFromAuffusion.noiseSchedule.alphasCumprod[0])
    }

    @Test(arguments: [
        ("PNDMScheduler", #"{"skip_prk_steps": false}"#, "skip_prk_steps"),
        ("PNDMScheduler", #"{"skip_prk_steps": true, "prediction_type": "sample"}"#, "prediction_type"),
        ("DDIMScheduler", #"{"thresholding": true}"#, "thresholding"),
        ("DDIMScheduler", #"{"rescale_betas_zero_snr": true}"#, "rescale_betas_zero_snr"),
        ("DPMSolverMultistepScheduler", #"{"algorithm_type": "sde-dpmsolver++"}"#, "algorithm_type"),
        ("DPMSolverMultistepScheduler", #"{"solver_order": 3}"#, "solver_order"),
        ("DPMSolverMultistepScheduler", #"{"variance_type": "learned_range"}"#, "variance_type"),
        ("EulerDiscreteScheduler", #"{"interpolation_type": "log_linear"}"#, "interpolation_type"),
        ("UniPCMultistepScheduler", #"{"thresholding": true}"#, "thresholding"),
        ("UniPCMultistepScheduler", #"{"use_karras_sigmas": true}"#, "use_karras_sigmas"),
        ("UniPCMultistepScheduler", #"{"prediction_type": "original_sample"}"#, "prediction_type"),
    ])
    func refusesWhatIsNotImplemented(className: String, json: String, key: String) throws {
        var configuration = try SchedulerConfiguration(json: Data(json.utf8))
        configuration.className = className
        #expect {
            try SchedulerKind.scheduler(describedBy: configuration)
        } throws: { error in
            guard case SchedulerError.unsupportedSetting(let scheduler, let reportedKey, _) = error else { return false }
            return scheduler == className && reportedKey == key
        }
    }

    @Test func mapsClassNamesAndCLINames() throws {
        for kind in SchedulerKind.allCases {
            let mapped = try SchedulerKind(className: kind.className)
            #expect(mapped.className == kind.className)
        }
        #expect(throws: SchedulerError.unknownScheduler(name: "LMSDiscreteScheduler")) {
            try SchedulerKind(className: "LMSDiscreteScheduler")
        }
        #expect(SchedulerKind(rawValue: "dpm++2m-karras") == .dpmSolverMultistepKarras)
        let karras = try #require(try SchedulerKind.dpmSolverMultistepKarras.makeScheduler(configuration: .auffusion)
            as? DPMSolverMultistepScheduler)
        #expect(karras.useKarrasSigmas && karras.solverOrder == 2)
        var withKarras = SchedulerConfiguration.auffusion
        withKarras.useKarrasSigmas = true
        let plain = try #require(try SchedulerKind.dpmSolverMultistep.makeScheduler(configuration: withKarras)
            as? DPMSolverMultistepScheduler)
        #expect(!plain.useKarrasSigmas, "the name dpm++2m means no Karras sigmas")
    }

    @Test func stepsNeedTimestepsThatBelongToTheSchedule() throws {
        var random = TorchRandomSource(seed: 0)
        let x = Tensor.zeros([1, 4, 2, 2])
        var pndm = try PNDMScheduler(configuration: .auffusion)
        #expect(throws: SchedulerError.timestepsNotSet(scheduler: "PNDMScheduler")) {
            try pndm.step(modelOutput: x, timestep: 1, sample: x, random: &random)
        }
        var euler = try EulerDiscreteScheduler(configuration: .auffusion)
        try euler.setTimesteps(stepCount: 10)
        #expect(throws: SchedulerError.timestepNotInSchedule(500)) {
            try euler.step(modelOutput: x, timestep: 500, sample: x, random: &random)
        }
        var ddim = try DDIMScheduler(configuration: .auffusion)
        try ddim.setTimesteps(stepCount: 1000)   // leading + offset 1 reaches t = 1000
        #expect(throws: SchedulerError.timestepOutOfRange(1000, trainingSteps: 1000)) {
            try ddim.step(modelOutput: x, timestep: 1000, sample: x, random: &random)
        }
    }
}

/// `add_noise` against diffusers 0.18.2 at four timesteps of each scheduler's 25-step schedule.
/// Tolerance: ``Tolerance/schedulerTrajectory`` (√ᾱ and √(1−ᾱ) come from MKL's square root in
/// the reference, 1 ulp from the IEEE one in about one case in five).
@Suite("add_noise")
struct AddNoiseTests {
    @Test(arguments: try SchedulerFixtures.all().addNoise)
    func matchesDiffusers(_ fixture: SchedulerFixtures.AddNoise) throws {
        let kind = try #require(SchedulerKind(rawValue: fixture.kind))
        var scheduler = try kind.makeScheduler(configuration: fixture.config)
        try scheduler.setTimesteps(stepCount: fixture.steps)
        var random = TorchRandomSource(seed: fixture.seed)
        let shape = try SchedulerFixtures.all().shape
        let original = random.normal(shape: shape), noise = random.normal(shape: shape)
        let reference = try SchedulerFixtures.tensor(fixture.file)
        for (position, timestep) in fixture.timesteps.enumerated() {
            let result = try scheduler.addNoise(original: original, noise: noise, timestep: Float(timestep))
            let expected = Tensor(shape: shape, scalars: Array(reference.scalars[position * result.count..<(position + 1) * result.count]))
            let discrepancy = compare(result, expected)
            #expect(discrepancy.isWithin(.schedulerTrajectory), "t = \(timestep): \(discrepancy)")
        }
    }
}

/// Damaged scheduler files (issue #22): the JSON5 input that crashed Foundation's JSON5 scanner,
/// and numbers out of range, end in one error.
@Suite("Scheduler configuration limits")
struct SchedulerConfigurationLimitTests {
    @Test("the JSON5 crash input and other non-JSON are refused", arguments: [
        Array(#"{"":"","#.utf8) + [0xFC] + Array(" _dif".utf8),
        Array(#"{num_train_timesteps: 1000}"#.utf8),
        Array(#"{"num_train_timesteps": 1000,}"#.utf8),
        Array(#"{"beta_start": 0.001, "beta_start": 0.002}"#.utf8),
    ])
    func notJSON(_ bytes: [UInt8]) {
        #expect(throws: SchedulerError.self) { try SchedulerConfiguration(json: Data(bytes)) }
    }

    @Test("numbers out of range name the key and the range", arguments: [
        (#"{"num_train_timesteps": 0}"#, "num_train_timesteps is 0; allowed: 1 to 100000"),
        (#"{"num_train_timesteps": 1000000000}"#, "num_train_timesteps is 1000000000"),
        (#"{"beta_end": NaN}"#, "beta_end is nan"),
        (#"{"trained_betas": [0.1, Infinity]}"#, "trained_betas[1] is inf"),
        (#"{"solver_order": 9}"#, "solver_order is 9; allowed: 1 to 3"),
        (#"{"lambda_min_clipped": NaN}"#, "lambda_min_clipped is nan"),
    ])
    func outOfRange(_ json: String, _ message: String) throws {
        let error = try #require(throws: SchedulerError.self) { try SchedulerConfiguration(json: Data(json.utf8)) }
        #expect(error.description.contains(message), "\(error)")
    }
}
