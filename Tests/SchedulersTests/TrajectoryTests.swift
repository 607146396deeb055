import Compute
import Schedulers
import Testing
import TestSupport

/// Whole denoising runs against diffusers 0.18.2: the pipelines' loop (`scale_model_input`, the
/// fixtures' stand-in model, `step` with the pipeline's generator) from seeded `torch.randn`
/// latents — text-to-audio from `randn · init_noise_sigma`, img2img from `add_noise` at the first
/// sliced timestep — compared at up to eight points along the way; afterwards the random source
/// must be where the reference left its generator.
///
/// Tolerance: ``Tolerance/schedulerTrajectory`` (nmse ≤ 1e-10 at every snapshot; achieved ≤ 3e-13).
/// The update formulas are evaluated in torch's float32 operation order; what differs is the
/// reference's square roots (torch 2.0.1 takes `sqrt` and `** 0.5` from MKL's `vsSqrt`, 1 ulp off
/// the IEEE result for about one value in five), DPM-Solver's λ table (Sleef `log`, ≤ 1 ulp) and
/// Euler's Karras timesteps (see ``TimestepTests``). Against a reference patched to use the IEEE
/// square root and the correctly rounded logarithm, 42 of the 44 runs agree bit for bit.
@Suite("Trajectories")
struct TrajectoryTests {
    @Test(arguments: try SchedulerFixtures.all().trajectories)
    func matchesDiffusers(_ fixture: SchedulerFixtures.Schedule) throws {
        var scheduler = try fixture.makeScheduler()
        var random = TorchRandomSource(seed: try #require(fixture.seed))
        let discrepancies = try Self.run(fixture, with: &scheduler, random: &random)
        for (snapshot, discrepancy) in discrepancies {
            #expect(discrepancy.isWithin(.schedulerTrajectory), "after step \(snapshot): \(discrepancy)")
        }
        // The steps drew exactly what diffusers' drew (DDIM with η > 0 and every Euler step).
        #expect(random.normal(shape: [16]).scalars == fixture.nextDraw, "the random stream is out of step")
    }

    /// Runs the fixture's loop with `scheduler` and compares at each of its snapshots (−1: the
    /// initial latents, i: after step i), in order.
    static func run(_ fixture: SchedulerFixtures.Schedule, with scheduler: inout some Scheduler,
                    random: inout TorchRandomSource) throws -> [(snapshot: Int, discrepancy: Discrepancy)] {
        let shape = try SchedulerFixtures.all().shape
        let reference = try SchedulerFixtures.tensor(try #require(fixture.file))
        let snapshots = try #require(fixture.snapshots)
        let timesteps = try fixture.schedule(of: &scheduler)
        #expect(timesteps.count == fixture.timesteps.count)
        var x: Tensor
        if fixture.strength == nil {
            x = random.normal(shape: shape) * scheduler.initNoiseSigma
        } else {
            let original = random.normal(shape: shape), noise = random.normal(shape: shape)
            x = try scheduler.addNoise(original: original, noise: noise, timestep: try #require(timesteps.first))
        }
        var discrepancies: [(Int, Discrepancy)] = []
        func check(_ x: Tensor, snapshot: Int) {
            guard let position = snapshots.firstIndex(of: snapshot) else { return }
            let size = x.count
            let expected = Tensor(shape: x.shape, scalars: Array(reference.scalars[position * size..<(position + 1) * size]))
            discrepancies.append((snapshot, compare(x, expected)))
        }
        check(x, snapshot: -1)
        for (index, t) in timesteps.enumerated() {
            let output = SchedulerFixtures.model(try scheduler.scaleModelInput(x, timestep: t), timestep: t)
            x = try scheduler.step(modelOutput: output, timestep: t, sample: x, random: &random)
            check(x, snapshot: index)
        }
        return discrepancies
    }

    @Test func fixturesCoverTheBrief() throws {
        let runs = try SchedulerFixtures.all().trajectories
        for kind in SchedulerKind.allCases {
            #expect(runs.contains { $0.kind == kind.rawValue && $0.strength == nil })
        }
        #expect(runs.contains { $0.kind == "pndm" && $0.strength == 0.7 && $0.steps == 100 })
        #expect(runs.contains { $0.kind == "ddim" && $0.eta == 0.5 })
        #expect(runs.contains { $0.config.predictionType == .vPrediction })
        #expect(runs.contains { $0.config.solverType == .heun })
        // UniPC, the fast preset: 10, 15 and 25 steps on Auffusion's config (ε) and the embedded
        // model's (v), and the settings that change its update.
        for steps in [10, 15, 25] {
            for prediction in [PredictionType.epsilon, .vPrediction] {
                #expect(runs.contains { $0.kind == "unipc" && $0.steps == steps && $0.config.predictionType == prediction },
                        "unipc, \(steps) steps, \(prediction)")
            }
        }
        #expect(runs.contains { $0.kind == "unipc" && $0.config.solverType == .bh1 })
        #expect(runs.contains { $0.kind == "unipc" && $0.config.solverOrder == 3 })
        #expect(runs.contains { $0.kind == "unipc" && $0.config.predictX0 == false })
        #expect(runs.contains { $0.kind == "unipc" && $0.config.disableCorrector?.isEmpty == false })
    }

    /// The bound must tell a correct UniPC from a broken one: on every full-schedule second-order
    /// UniPC run, the scheduler with its corrector switched off, or with a first-order predictor
    /// and corrector, must leave ``Tolerance/schedulerTrajectory`` by the last snapshot.
    @Test(arguments: try uniPCSecondOrderRuns())
    func uniPCBoundCatchesAWrongPredictorOrCorrector(_ fixture: SchedulerFixtures.Schedule) throws {
        var withoutCorrector = fixture.config, firstOrder = fixture.config
        withoutCorrector.disableCorrector = Array(0..<fixture.steps)
        firstOrder.solverOrder = 1
        for (broken, configuration) in [("no corrector", withoutCorrector), ("first order", firstOrder)] {
            var scheduler = try UniPCMultistepScheduler(configuration: configuration)
            var random = TorchRandomSource(seed: try #require(fixture.seed))
            let last = try #require(try Self.run(fixture, with: &scheduler, random: &random).last)
            #expect(!last.discrepancy.isWithin(.schedulerTrajectory), "\(broken) passes: \(last.discrepancy)")
        }
    }

    static func uniPCSecondOrderRuns() throws -> [SchedulerFixtures.Schedule] {
        try SchedulerFixtures.all().trajectories.filter {
            $0.kind == "unipc" && $0.strength == nil && ($0.config.solverOrder ?? 2) == 2 && $0.config.disableCorrector == nil
        }
    }

    /// The UniPC cases the generator wrote are all here (``SchedulerFixtures/all()`` checks the
    /// total), and the broken-solver check above runs on the ones it should.
    @Test func uniPCCasesAreCounted() throws {
        #expect(try SchedulerFixtures.all().trajectories.filter { $0.kind == "unipc" }.count == 24)
        #expect(try Self.uniPCSecondOrderRuns().count == 16)
    }
}
