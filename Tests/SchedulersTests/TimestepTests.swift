import Compute
import Schedulers
import Testing
import TestSupport

/// Timestep lists (full schedules and img2img slices), Euler's σ and `init_noise_sigma` against
/// diffusers 0.18.2, for every scheduler, spacing and a range of step counts.
///
/// Tolerances:
/// - timesteps: **exact** (equal as float32), except Euler's Karras timesteps, fractional training
///   times that diffusers computes with NumPy's SIMD `log` (AVX-512 here), which differs from the
///   correctly rounded logarithm by an ulp or so: |Δt| ≤ 1e-4 (about 2 float32 ulps at t ≈ 500).
///   DPM-Solver's Karras timesteps are rounded to integers and must be exact.
/// - Euler's σ and `init_noise_sigma`: ≤ 2 ulp. diffusers takes `((1 − ᾱ)/ᾱ) ** 0.5`, and torch
///   2.0.1 on x86 evaluates `** 0.5` and `sqrt` with MKL's `vsSqrt` (VML_HA), which is not
///   correctly rounded: about one value in five is 1 ulp away from the IEEE square root this port
///   uses; interpolation and the Karras power law carry that ulp through.
@Suite("Timesteps")
struct TimestepTests {
    static let karrasTimestepTolerance = 1e-4
    static let sigmaULPs = 2

    @Test(arguments: try SchedulerFixtures.all().timesteps)
    func matchesDiffusers(_ fixture: SchedulerFixtures.Schedule) throws {
        var scheduler = try fixture.makeScheduler()
        let timesteps = try fixture.schedule(of: &scheduler)
        try #require(timesteps.count == fixture.timesteps.count, "\(timesteps.count) timesteps, expected \(fixture.timesteps.count)")
        let fractional = fixture.kind == "euler" && fixture.config.useKarrasSigmas == true
        for (actual, expected) in zip(timesteps, fixture.timesteps) {
            if fractional {
                #expect(abs(Double(actual) - expected) <= Self.karrasTimestepTolerance, "\(actual) vs \(expected)")
            } else {
                #expect(actual == Float(expected), "\(timesteps) vs \(fixture.timesteps)")
            }
        }
        #expect(ulpDistance(scheduler.initNoiseSigma, Float(fixture.initNoiseSigma)) <= Self.sigmaULPs)
        if let sigmas = fixture.sigmas {
            let euler = try #require(scheduler as? EulerDiscreteScheduler)
            try #require(euler.sigmas.count == sigmas.count)
            let worst = zip(euler.sigmas, sigmas).map { ulpDistance($0, Float($1)) }.max() ?? 0
            #expect(worst <= Self.sigmaULPs, "σ differ by up to \(worst) ulp")
        }
    }

    /// Spec 6.2: N = 100 gives 101 PLMS timesteps 991, 981, 981, 971, …, 11, 1.
    @Test func pndmRepeatsItsWarmUpTimestep() throws {
        var scheduler = try SchedulerKind.pndm.makeScheduler(configuration: .auffusion)
        let timesteps = try scheduler.setTimesteps(stepCount: 100)
        #expect(timesteps.count == 101)
        #expect(Array(timesteps.prefix(4)) == [991, 981, 981, 971])
        #expect(Array(timesteps.suffix(2)) == [11, 1])
    }

    /// Spec 7.3: the img2img slice of the 101 PLMS timesteps drops the repeated entry.
    @Test(arguments: [(0.0, [1]), (0.1, [101, 91]), (0.3, [301, 291]), (0.7, [701, 691]), (1.0, [991, 981, 981])])
    func pndmImageToImageSlices(strength: Double, head: [Float]) throws {
        var scheduler = try SchedulerKind.pndm.makeScheduler(configuration: .auffusion)
        let timesteps = try scheduler.timesteps(stepCount: 100, strength: strength)
        #expect(Array(timesteps.prefix(head.count)) == head)
        #expect(timesteps.count == min(Int(100 * strength), 100) + 1)
        #expect(scheduler.timesteps.count == 101, "the scheduler keeps its full schedule")
    }

    @Test func rejectsBadStepCountsAndStrengths() throws {
        var scheduler = try SchedulerKind.ddim.makeScheduler(configuration: .auffusion)
        #expect(throws: SchedulerError.invalidStepCount(0, trainingSteps: 1000)) { try scheduler.setTimesteps(stepCount: 0) }
        #expect(throws: SchedulerError.invalidStepCount(1001, trainingSteps: 1000)) { try scheduler.setTimesteps(stepCount: 1001) }
        // A configuration that leaves no step says so, not "between 1 and 0".
        #expect(!"\(SchedulerError.invalidStepCount(1, trainingSteps: 0))".contains("between 1 and 0"))
        #expect(throws: SchedulerError.invalidStrength(1.5)) { try scheduler.timesteps(stepCount: 10, strength: 1.5) }
    }

    @Test func fixturesCoverEverySchedulerSpacingAndStrength() throws {
        let fixtures = try SchedulerFixtures.all().timesteps
        for kind in SchedulerKind.allCases {
            #expect(fixtures.contains { $0.kind == kind.rawValue && $0.strength == 0.7 })
            for spacing in TimestepSpacing.allCases {
                #expect(fixtures.contains { $0.kind == kind.rawValue && $0.config.timestepSpacing == spacing })
            }
        }
    }
}

extension SchedulerConfiguration {
    /// Auffusion's scheduler/scheduler_config.json (spec 6.1).
    static var auffusion: SchedulerConfiguration {
        var configuration = SchedulerConfiguration()
        configuration.className = "PNDMScheduler"
        configuration.trainingSteps = 1000
        configuration.betaStart = 0.00085
        configuration.betaEnd = 0.012
        configuration.betaSchedule = .scaledLinear
        configuration.clipSample = false
        configuration.predictionType = .epsilon
        configuration.setAlphaToOne = false
        configuration.skipPRKSteps = true
        configuration.stepsOffset = 1
        configuration.timestepSpacing = .leading
        return configuration
    }
}

/// How many float32 values lie between `a` and `b` (0 when equal; both finite, same sign).
func ulpDistance(_ a: Float, _ b: Float) -> Int {
    Int(a.bitPattern > b.bitPattern ? a.bitPattern - b.bitPattern : b.bitPattern - a.bitPattern)
}
