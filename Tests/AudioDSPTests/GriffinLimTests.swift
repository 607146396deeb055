import AudioDSP
import Compute
import Foundation
import Testing
import TestSupport

@Suite("Mel inversion and Griffin-Lim against numpy.linalg.pinv and librosa.griffinlim")
struct GriffinLimTests {
    struct Reference: Decodable { let spectral_convergence: Double }

    @Test("the filterbank pseudo-inverse equals numpy.linalg.pinv (nmse ≤ 1e-10)")
    func pseudoInverse() throws {
        let inversion = try MelInversion(filterbank: MelFilterbank.make(MelParameters()))
        let discrepancy = compare(inversion.pseudoInverse, try Fixtures.tensor("audio/mel_pinv.npy"))
        #expect(discrepancy.nmse <= 1e-10, "\(discrepancy)")
    }

    @Test("spectral convergence after 32 iterations is within 10 % of librosa's", arguments: ["speech", "chirp"])
    func convergence(_ name: String) throws {
        let references = try Fixtures.json([String: Reference].self, "audio/griffinlim.json")
        let reference = try #require(references[name]).spectral_convergence
        let parameters = MelParameters()
        let logMel = try Fixtures.tensor("audio/\(name).logmel.npy")
        let magnitudes = try MelInversion(filterbank: MelFilterbank.make(parameters)).magnitudes(fromLogMel: logMel)
        let griffinLim = GriffinLim(parameters: parameters)
        let signal = griffinLim.reconstruct(magnitudes: magnitudes, frameCount: logMel.shape[1])
        #expect(signal.count == logMel.shape[1] * parameters.hopLength)
        let ours = griffinLim.spectralConvergence(of: signal, magnitudes: magnitudes)
        #expect(ours <= reference * 1.10, "ours \(ours), librosa \(reference)")
    }

    @Test("more iterations reduce the spectral convergence")
    func iterationsHelp() throws {
        let parameters = MelParameters()
        let logMel = try Fixtures.tensor("audio/chirp.logmel.npy")
        let magnitudes = try MelInversion(filterbank: MelFilterbank.make(parameters)).magnitudes(fromLogMel: logMel)
        let few = GriffinLim(parameters: parameters, iterations: 2)
        let many = GriffinLim(parameters: parameters, iterations: 32)
        let frames = logMel.shape[1]
        #expect(many.spectralConvergence(of: many.reconstruct(magnitudes: magnitudes, frameCount: frames), magnitudes: magnitudes)
            < few.spectralConvergence(of: few.reconstruct(magnitudes: magnitudes, frameCount: frames), magnitudes: magnitudes))
    }
}
