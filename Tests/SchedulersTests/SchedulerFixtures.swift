import Compute
import Foundation
import Schedulers
import Testing
import TestSupport

/// `Tests/Fixtures/schedulers/cases.json`, written by scripts/reference/schedulers_fixtures.py from
/// diffusers 0.18.2 (see that script for how every number was produced).
struct SchedulerFixtures: Decodable, Sendable {
    /// A timestep list (and, for trajectories, a full run) of one scheduler on one configuration.
    struct Schedule: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let kind: String
        let config: SchedulerConfiguration
        let steps: Int
        let strength: Double?
        let timesteps: [Double]
        let initNoiseSigma: Double
        let sigmas: [Double]?
        // Trajectories only.
        let eta: Double?
        let seed: UInt64?
        let snapshots: [Int]?
        let file: String?
        let nextDraw: [Float]?

        var testDescription: String { name }

        enum CodingKeys: String, CodingKey {
            case name, kind, config, steps, strength, timesteps, sigmas, eta, seed, snapshots, file
            case initNoiseSigma = "init_noise_sigma", nextDraw = "next_draw"
        }

        /// The scheduler the case describes, built as the CLI would (`SchedulerKind`), with η for DDIM.
        func makeScheduler() throws -> any Scheduler {
            guard let kind = SchedulerKind(rawValue: kind) else { throw SchedulerError.unknownScheduler(name: kind) }
            let scheduler = try kind.makeScheduler(configuration: config)
            guard let eta, eta > 0, var ddim = scheduler as? DDIMScheduler else { return scheduler }
            ddim.eta = Float(eta)
            return ddim
        }

        /// The timesteps the case steps through: the full schedule or its img2img slice.
        func schedule(of scheduler: inout some Scheduler) throws -> [Float] {
            if let strength { return try scheduler.timesteps(stepCount: steps, strength: strength) }
            return try scheduler.setTimesteps(stepCount: steps)
        }
    }

    struct Alphas: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let config: SchedulerConfiguration
        let file: String
        var testDescription: String { name }
    }

    struct AddNoise: Decodable, Sendable, CustomTestStringConvertible {
        let name: String
        let kind: String
        let config: SchedulerConfiguration
        let steps: Int
        let seed: UInt64
        let timesteps: [Double]
        let file: String
        var testDescription: String { name }
    }

    let shape: [Int]
    let alphas: [Alphas]
    let timesteps: [Schedule]
    let trajectories: [Schedule]
    let addNoise: [AddNoise]

    enum CodingKeys: String, CodingKey {
        case shape, alphas, timesteps, trajectories, addNoise = "add_noise"
    }

    /// The fixture, every case list as long as the generator wrote it (``Fixtures/cases(_:_:)``).
    static func all() throws -> SchedulerFixtures {
        let path = "schedulers/cases.json"
        let fixtures = try Fixtures.json(SchedulerFixtures.self, path)
        for (key, count) in [("alphas", fixtures.alphas.count), ("timesteps", fixtures.timesteps.count),
                             ("trajectories", fixtures.trajectories.count), ("add_noise", fixtures.addNoise.count)] {
            try Fixtures.requireRecordedCount(count, of: path, key: key)
        }
        return fixtures
    }

    static func tensor(_ file: String) throws -> Tensor { try Fixtures.tensor("schedulers/\(file)") }

    /// The fixtures' stand-in denoiser: `c(t)·x + 0.05·x/(1 + x·x)`, `c(t) = 0.1·sin(t/100)` in
    /// double rounded to float32, every tensor operation in float32 in torch's order.
    static func model(_ x: Tensor, timestep: Float) -> Tensor {
        let c = Float(0.1 * sin(Double(timestep) / 100))
        return x.map { c * $0 + 0.05 * $0 / (1 + $0 * $0) }
    }
}
