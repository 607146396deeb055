import AudioDSP
import Compute
import Foundation
import Pipeline
import Testing
import TestSupport

@Suite("auffusion generate and tokens")
struct GenerateCommandTests {
    private func model(_ layout: String = "standard") throws -> URL { try PipelineFolders.folder(layout) }

    @Test("generate writes audio, the spectrogram, the mel and the latents, and reports JSON")
    func generates() throws {
        let folder = try model()
        let out = folder.deletingLastPathComponent()
        let result = try CommandRunner.run("auffusion", [
            "generate", "a dog barking", "--model", folder.path, "-o", out.appendingPathComponent("dog.wav").path,
            "--steps", "3", "--duration", "0.5", "--seed", "42", "--scheduler", "dpmpp",
            "--spectrogram", out.appendingPathComponent("dog.png").path,
            "--save-mel", out.appendingPathComponent("dog-mel.npy").path,
            "--save-latents", out.appendingPathComponent("dog-latents.npy").path, "--json",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let audio = try AudioFile.read(out.appendingPathComponent("dog.wav"))
        #expect(audio.sampleRate == 16000 && audio.frameCount == 8000)
        #expect(try NumPyFile.read(out.appendingPathComponent("dog-mel.npy")).shape[0] == 16)
        #expect(try NumPyFile.read(out.appendingPathComponent("dog-latents.npy")).shape.count == 4)
        #expect(result.standardOutput.contains("\"seconds\":0.5"))
    }

    @Test("tokens prints ids, tokens and the word map as JSON")
    func tokens() throws {
        let result = try CommandRunner.run("auffusion", ["tokens", "a dog barking", "--model", try model("adapter").path, "--json"])
        #expect(result.exitCode == 0, "\(result.standardError)")
        let object = try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
        let details = object?["details"] as? [String: Any]
        #expect(object?["command"] as? String == "tokens")
        #expect((details?["ids"] as? [Int])?.first == 49406)
        #expect((details?["words"] as? [[String: Any]])?.count == 3)
    }

    @Test("--noise gives the run its first tensor: the seed's own latents make the seed's bytes, and the record names no seed")
    func noiseFile() throws {
        let folder = try model().deletingLastPathComponent()
        var source = NoiseSource(seed: 7)
        let noise = folder.appendingPathComponent("seed7.npy")
        try NumPyFile.write(source.normal(shape: [1, 4, 8, 32]), to: noise)   // the embedded model's latents
        let seeded = folder.appendingPathComponent("seeded.wav"), given = folder.appendingPathComponent("given.wav")
        let first = try CommandRunner.run("auffusion", ["generate", "a beep", "--seed", "7", "--steps", "3", "-o", seeded.path, "--json"])
        let second = try CommandRunner.run("auffusion", ["generate", "a beep", "--noise", noise.path, "--steps", "3", "-o", given.path, "--json"])
        #expect(first.exitCode == 0 && second.exitCode == 0, "\(first.standardError) \(second.standardError)")
        #expect(try Data(contentsOf: given) == Data(contentsOf: seeded))
        #expect(first.standardOutput.contains(#""seed":7"#) && !second.standardOutput.contains(#""seed""#), "\(second.standardOutput)")
    }

    @Test("bad requests end with one error line and exit code 1")
    func badInput() throws {
        let folder = try model()
        let out = folder.deletingLastPathComponent().appendingPathComponent("x.wav").path
        let cases: [([String], String)] = [
            (["generate", "a dog", "--model", folder.appendingPathComponent("missing").path, "-o", out], "no model folder"),
            (["generate", "a dog", "--model", folder.path, "-o", "/nonexistent-dir/x.wav", "--steps", "1", "--duration", "0.2", "--quiet"], "cannot write"),
            (["generate", "a dog", "--model", folder.path, "-o", folder.path + "/x.mp3"], "unknown extension"),
        ]
        for (arguments, fragment) in cases {
            let result = try CommandRunner.run("auffusion", arguments)
            #expect(result.exitCode == 1, "\(arguments)")
            #expect(result.standardError.split(separator: "\n").filter { !$0.hasPrefix("loaded") }.count == 1, "\(result.standardError)")
            #expect(result.standardError.contains(fragment), "\(result.standardError)")
        }
        // Argument errors (steps 0, no prompt, a duration past the longest) are usage errors: exit
        // code 2 with the reason (docs/cli.md), before the model loads.
        for (arguments, fragment) in [(["generate", "a dog", "--model", folder.path, "-o", out, "--steps", "0"], "--steps must be at least 1"),
                                      (["generate", "--model", folder.path, "-o", out], "give a prompt"),
                                      (["generate", "a dog", "--model", folder.path, "-o", out, "--duration", "601"],
                                       "--duration must be at most 600 s")] {
            let result = try CommandRunner.run("auffusion", arguments)
            #expect(result.exitCode == 2 && result.standardError.contains(fragment) && !result.standardError.contains("loaded"),
                    "\(arguments): \(result.standardError)")
        }
    }

    @Test("--fast and the speed flags reach the run and its record; a flag overrides its part of the preset; bad values and feature caching with an attention command are usage errors")
    func speedFlags() throws {
        let folder = try model()
        let out = folder.deletingLastPathComponent().appendingPathComponent("fast.wav").path
        let common = ["--model", folder.path, "-o", out, "--steps", "4", "--duration", "0.5", "--seed", "1", "--json"]
        let fast = try CommandRunner.run("auffusion", ["generate", "a dog"] + common + ["--fast", "--cache-interval", "2"])
        #expect(fast.exitCode == 0, "\(fast.standardError)")
        let record = try JSONSerialization.jsonObject(with: Data(fast.standardOutput.utf8)) as? [String: Any]
        let speed = (record?["details"] as? [String: Any])?["speed"] as? [String: Any]
        #expect(speed?.filter { $0.key != "products" } as? [String: Double] == ["guided_fraction": 0.5, "cache_interval": 2, "cache_branch": 0],
                "\(fast.standardOutput)")
        // The record says the precision the products ran in: under --fast, bfloat16 only where the
        // CPU runs it faster (ProductPrecision.fastest); asked for, wherever the CPU has it.
        #expect(speed?["products"] as? String == ProductPrecision.fastest.rawValue, "\(fast.standardOutput)")
        let bfloat16 = try CommandRunner.run("auffusion", ["generate", "a dog"] + common + ["--products", "bfloat16"])
        // Where the CPU has no BF16 dot products the run is the exact one, and its record has no `speed`.
        let ran = ProductPrecision.bfloat16.runs(on: .active)
        #expect(ran ? bfloat16.standardOutput.contains(#""products":"bfloat16""#) : !bfloat16.standardOutput.contains(#""speed""#),
                "\(bfloat16.standardOutput)")
        let float32 = try CommandRunner.run("auffusion", ["generate", "a dog"] + common + ["--fast", "--products", "float32"])
        #expect(float32.standardOutput.contains(#""products":"float32""#), "\(float32.standardOutput)")
        // On an AVX2-only CPU (forced here), bfloat16 products asked for run as float32, the record
        // says so, and the file is what --fast --products float32 writes there, to the bit.
        let avx2 = ["AUFFUSION_ISA": "avx2"]
        let fastOnAVX2 = try CommandRunner.run("auffusion", ["generate", "a dog"] + common + ["--fast", "--products", "bfloat16"],
                                               environment: avx2)
        let sound = try Data(contentsOf: URL(fileURLWithPath: out))
        let float32OnAVX2 = try CommandRunner.run("auffusion", ["generate", "a dog"] + common + ["--fast", "--products", "float32"],
                                                  environment: avx2)
        #expect(fastOnAVX2.exitCode == 0 && fastOnAVX2.standardOutput.contains(#""products":"float32""#), "\(fastOnAVX2.standardOutput)")
        let soundFloat32 = try Data(contentsOf: URL(fileURLWithPath: out))
        #expect(float32OnAVX2.exitCode == 0 && sound == soundFloat32)
        let exact = try CommandRunner.run("auffusion", ["generate", "a dog"] + common)
        #expect(exact.exitCode == 0 && !exact.standardOutput.contains("speed"), "\(exact.standardOutput)")
        let cases: [([String], String)] = [
            (["generate", "a dog"] + common + ["--guidance-until", "1.5"], "--guidance-until must be in [0, 1]"),
            (["generate", "a dog"] + common + ["--cache-interval", "0"], "--cache-interval must be at least 1"),
            (["generate", "a dog"] + common + ["--products", "float16"], "--products"),
            (["swap", "a dog", "--to", "a cat"] + common + ["--fast"], "--fast (its --cache-interval 3) does not go with a prompt-to-prompt edit"),
            (["attention", "a dog", "--model", folder.path, "-o", out, "--cache-interval", "2"], "--cache-interval above 1 does not go with attention maps"),
        ]
        for (arguments, fragment) in cases {
            let result = try CommandRunner.run("auffusion", arguments)
            #expect(result.exitCode == 2 && result.standardError.contains(fragment), "\(arguments): \(result.standardError)")
        }
        let branch = try CommandRunner.run("auffusion", ["generate", "a dog"] + common + ["--cache-interval", "2", "--cache-branch", "5"])
        #expect(branch.exitCode == 1 && branch.standardError.contains("--cache-branch must be in 0…0 for this model, got 5"),
                "\(branch.standardError)")
    }
}

@Suite("auffusion vocode --model")
struct ModelVocodeTests {
    @Test("the folder's HiFi-GAN turns a log-mel of its mel count into frames × hop samples")
    func hifiGAN() throws {
        let model = try PipelineFolders.folder("standard")
        let mel = model.deletingLastPathComponent().appendingPathComponent("mel.npy")
        try NumPyFile.write(try Fixtures.tensor("pipeline/standard_pndm_plain.mel.npy"), to: mel)
        let output = model.deletingLastPathComponent().appendingPathComponent("voc.wav")
        let result = try CommandRunner.run("auffusion", ["vocode", mel.path, "--model", model.path, "-o", output.path])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(try AudioFile.read(output).frameCount == 64 * 160)
        let wrong = try CommandRunner.run("auffusion", ["vocode", Fixtures.url("audio/speech.logmel.npy").path,
                                                        "--model", model.path, "-o", output.path])
        #expect(wrong.exitCode == 1 && wrong.standardError.contains("(16, frames)"))
    }
}
