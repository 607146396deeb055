import Compute
import Schedulers
import Testing
import TestSupport

/// β and ᾱ against diffusers 0.18.2 (`self.betas`, `self.alphas_cumprod`): **bit-identical**, for
/// every beta schedule, odd training lengths and `trained_betas` (torch.linspace with its fused
/// two-sided evaluation, cumprod accumulated in double).
@Suite("Noise schedule (β, ᾱ)")
struct NoiseScheduleTests {
    @Test(arguments: try SchedulerFixtures.all().alphas)
    func matchesDiffusers(_ fixture: SchedulerFixtures.Alphas) throws {
        let schedule = try NoiseSchedule(configuration: fixture.config, scheduler: "test")
        let reference = try SchedulerFixtures.tensor(fixture.file)   // [2, T]: betas, alphas_cumprod
        let count = reference.shape[1]
        #expect(schedule.betas.map(\.bitPattern) == reference.scalars[..<count].map(\.bitPattern))
        #expect(schedule.alphasCumprod.map(\.bitPattern) == reference.scalars[count...].map(\.bitPattern))
    }

    @Test func coversEveryBetaSchedule() throws {
        let fixtures = try SchedulerFixtures.all().alphas
        for schedule in BetaSchedule.allCases {
            #expect(fixtures.contains { ($0.config.betaSchedule ?? .linear) == schedule && $0.config.trainedBetas == nil })
        }
        #expect(fixtures.contains { $0.config.trainedBetas != nil })
    }

    /// Spec 6.2: ᾱ[0] = 0.99915, ᾱ[1] = 0.998296, ᾱ[991] = 0.0051301, ᾱ[999] = 0.0046601.
    @Test func auffusionValuesFromTheSpec() throws {
        var configuration = SchedulerConfiguration()
        configuration.betaSchedule = .scaledLinear
        configuration.betaStart = 0.00085
        configuration.betaEnd = 0.012
        let alphas = try NoiseSchedule(configuration: configuration, scheduler: "test").alphasCumprod
        for (index, value) in [(0, 0.99915), (1, 0.998296), (991, 0.0051301), (999, 0.0046601)] {
            #expect(abs(Double(alphas[index]) / value - 1) < 2e-5, "ᾱ[\(index)] = \(alphas[index])")   // spec: 5–6 digits
        }
    }

    @Test func trainedBetasMustCoverTheTrainingRange() {
        var configuration = SchedulerConfiguration()
        configuration.trainedBetas = [0.1, 0.2]
        #expect(throws: SchedulerError.invalidConfiguration(scheduler: "test", reason: "trained_betas has 2 values for 1000 timesteps")) {
            try NoiseSchedule(configuration: configuration, scheduler: "test")
        }
    }
}
