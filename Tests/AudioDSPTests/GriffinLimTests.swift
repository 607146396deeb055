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
        let signal = try griffinLim.reconstruct(magnitudes: magnitudes, frameCount: logMel.shape[1])
        #expect(signal.count == logMel.shape[1] * parameters.hopLength)
        let ours = griffinLim.spectralConvergence(of: signal, magnitudes: magnitudes)
        #expect(ours <= reference * 1.10, "ours \(ours), librosa \(reference)")
    }

    @Test("a spectrogram shorter than its reflection padding is refused, not read past its end; the shortest allowed is finite")
    func tooFewFrames() throws {
        let parameters = MelParameters()
        let griffinLim = GriffinLim(parameters: parameters, iterations: 4)
        #expect(griffinLim.minimumFrames == parameters.padding / parameters.hopLength + 1)
        let bins = parameters.fftSize / 2 + 1
        for frames in [1, griffinLim.minimumFrames - 1] {
            #expect(throws: AnalysisError.tooFewFrames(count: frames, minimum: griffinLim.minimumFrames)) {
                try griffinLim.reconstruct(magnitudes: [Float](repeating: 0.1, count: frames * bins), frameCount: frames)
            }
        }
        let shortest = griffinLim.minimumFrames
        let signal = try griffinLim.reconstruct(magnitudes: [Float](repeating: 0.1, count: shortest * bins), frameCount: shortest)
        #expect(signal.count == shortest * parameters.hopLength && signal.allSatisfy(\.isFinite))
    }

    @Test("more iterations reduce the spectral convergence")
    func iterationsHelp() throws {
        let parameters = MelParameters()
        let logMel = try Fixtures.tensor("audio/chirp.logmel.npy")
        let magnitudes = try MelInversion(filterbank: MelFilterbank.make(parameters)).magnitudes(fromLogMel: logMel)
        let few = GriffinLim(parameters: parameters, iterations: 2)
        let many = GriffinLim(parameters: parameters, iterations: 32)
        let frames = logMel.shape[1]
        #expect(try many.spectralConvergence(of: many.reconstruct(magnitudes: magnitudes, frameCount: frames), magnitudes: magnitudes)
            < few.spectralConvergence(of: few.reconstruct(magnitudes: magnitudes, frameCount: frames), magnitudes: magnitudes))
    }

    /// Six seconds of a sustained chord (220, 330 and 440 Hz) under a slow chirp and seeded noise
    /// bursts: sustained partials are what blocks phased apart would cancel where they meet.
    static func chordClip() -> [Float] {
        var state: UInt64 = 7
        func unit() -> Double {   // SplitMix64
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = (state ^ (state >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Double((z ^ (z >> 31)) >> 11) / Double(1 << 53)
        }
        return (0..<96_000).map { index in
            let time = Double(index) / 16_000
            let chord = [220.0, 330, 440].reduce(0) { $0 + 0.15 * sin(2 * .pi * $1 * time) }
            let chirp = 0.1 * sin(2 * .pi * (300 * time + 150 * time * time))
            let burst = Int(time * 2) % 2 == 0 ? 0.05 * (unit() * 2 - 1) : 0
            return Float(chord + chirp + burst)
        }
    }

    @Test("block by block: as close to the magnitudes as one piece (within 10 %), no dip where blocks meet (level within 1 dB of one piece's), and one piece when it fits a block")
    func blocks() throws {
        let parameters = MelParameters()
        let inversion = try MelInversion(filterbank: MelFilterbank.make(parameters))
        let logMel = try MelAnalyzer(parameters).logMel(of: AudioBuffer(mono: Self.chordClip(), sampleRate: 16_000))
        let frames = logMel.shape[1]
        let magnitudes = { (range: Range<Int>) in inversion.magnitudes(fromLogMel: logMel.sliced(axis: 1, range)) }
        let whole = GriffinLim(parameters: parameters)
        var blocked = whole
        (blocked.blockFrames, blocked.blockOverlap) = (256, 128)
        let one = try whole.reconstruct(magnitudes: magnitudes(0..<frames), frameCount: frames)
        let pieces = try blocked.reconstruct(frameCount: frames, magnitudes: magnitudes)
        #expect(try whole.reconstruct(frameCount: frames, magnitudes: magnitudes) == one)
        #expect(pieces.count == one.count)
        let all = magnitudes(0..<frames)
        let (oneError, piecesError) = (whole.spectralConvergence(of: one, magnitudes: all), whole.spectralConvergence(of: pieces, magnitudes: all))
        #expect(piecesError <= oneError * 1.10, "blocks \(piecesError), one piece \(oneError)")
        // Level in 10 ms frames, in dB of one piece's, over every crossfade (blocks start every 128
        // frames and are crossfaded over their frames 48–80).
        func level(_ signal: [Float], _ frame: Int) -> Double {
            let part = signal[(frame * 160)..<((frame + 1) * 160)]
            return 10 * log10(part.reduce(0) { $0 + Double($1 * $1) } / 160 + 1e-12)
        }
        let seams = stride(from: 128, to: frames - 128, by: 128).flatMap { start in (start + 48)..<(start + 80) }
        let dips = seams.map { level(pieces, $0) - level(one, $0) }
        #expect(dips.min()! >= -1, "level against one piece at the crossfades: \(dips.min()!) dB")
    }
}
