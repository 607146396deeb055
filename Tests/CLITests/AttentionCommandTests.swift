import Compute
import Foundation
import Testing
import TestSupport

@Suite("auffusion attention and swap --blend")
struct AttentionCommandTests {
    @Test("attention writes the audio, the spectrogram, one heatmap per word and the maps of every token")
    func attention() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent().appendingPathComponent("maps")
        let result = try CommandRunner.run("auffusion", [
            "attention", "a dog barking", "--model", folder.path, "-o", out.path, "--steps", "3", "--duration", "0.5",
            "--resolution", "4x256", "--json",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        for name in ["audio.wav", "spectrogram.png", "00-a.png", "01-dog.png", "02-barking.png"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name)")
        }
        #expect(try NumPyFile.read(out.appendingPathComponent("maps.npy")).shape == [5, 4, 256])   // BOS a dog barking EOS
        #expect(result.standardOutput.contains("\"resolution\":\"4x256\""), "\(result.standardOutput)")
        // Again into the same folder with another prompt: only this prompt's heatmaps are left.
        let again = try CommandRunner.run("auffusion", ["attention", "a cat", "--model", folder.path, "-o", out.path, "--steps", "2",
                                                        "--duration", "0.5", "--resolution", "4x256", "--quiet"])
        #expect(again.exitCode == 0, "\(again.standardError)")
        let pictures = try FileManager.default.contentsOfDirectory(atPath: out.path).filter { $0.hasSuffix(".png") && $0 != "spectrogram.png" }
        #expect(pictures.sorted() == ["00-a.png", "01-cat.png"], "\(pictures)")
        // A folder that held no maps before keeps whatever it holds, named like a heatmap or not.
        let mine = folder.deletingLastPathComponent().appendingPathComponent("mine")
        try FileManager.default.createDirectory(at: mine, withIntermediateDirectories: true)
        try Data("a picture of mine".utf8).write(to: mine.appendingPathComponent("07-intro.png"))
        let into = try CommandRunner.run("auffusion", ["attention", "a cat", "--model", folder.path, "-o", mine.path, "--steps", "2",
                                                       "--duration", "0.5", "--resolution", "4x256", "--quiet"])
        #expect(into.exitCode == 0, "\(into.standardError)")
        #expect(FileManager.default.fileExists(atPath: mine.appendingPathComponent("07-intro.png").path))
    }

    @Test("one error line for a level the model does not store, an unusable folder, or a word not in the prompts")
    func errors() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent()
        let level = try CommandRunner.run("auffusion", ["attention", "a dog", "--model", folder.path, "-o", out.path,
                                                       "--resolution", "8x32", "--quiet"])
        #expect(level.exitCode == 1)
        #expect(level.standardError.contains("--resolution 8x32 is not stored for this model; use one of 4x256, 2x128"),
                "\(level.standardError)")
        let blocked = out.appendingPathComponent("file")
        try Data().write(to: blocked)
        let folderError = try CommandRunner.run("auffusion", ["attention", "a dog", "--model", folder.path, "-o",
                                                             blocked.appendingPathComponent("maps").path, "--quiet"])
        #expect(folderError.exitCode == 1)
        #expect(folderError.standardError.contains("cannot create the folder \(blocked.appendingPathComponent("maps").path)"), "\(folderError.standardError)")
        let word = try CommandRunner.run("auffusion", ["swap", "a dog barking", "a cat barking", "--blend", "bird",
                                                      "--model", folder.path, "-o", out.appendingPathComponent("x.wav").path,
                                                      "--steps", "2", "--quiet"])
        #expect(word.exitCode == 1)
        #expect(word.standardError.contains("\"bird\" is not a word of"), "\(word.standardError)")
    }

    @Test("swap --blend runs the local blend")
    func blend() throws {
        let folder = try PipelineFolders.folder("standard")
        let out = folder.deletingLastPathComponent().appendingPathComponent("blend.wav")
        let result = try CommandRunner.run("auffusion", [
            "swap", "a dog barking", "a cat barking", "--blend", "dog", "cat", "--blend-resolution", "4x256",
            "--model", folder.path, "-o", out.path, "--steps", "3", "--duration", "0.5", "--quiet",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        #expect(FileManager.default.fileExists(atPath: out.path))
    }

    @Test("swap --maps writes the edited prompt's per-word maps")
    func editMaps() throws {
        let folder = try PipelineFolders.folder("standard")
        let work = folder.deletingLastPathComponent()
        let result = try CommandRunner.run("auffusion", [
            "swap", "a dog barking", "a cat barking", "--maps", work.appendingPathComponent("maps").path,
            "--maps-resolution", "4x256", "--model", folder.path, "-o", work.appendingPathComponent("cat.wav").path,
            "--steps", "2", "--duration", "0.5", "--quiet",
        ])
        #expect(result.exitCode == 0, "\(result.standardError)")
        for name in ["maps.npy", "00-a.png", "01-cat.png", "02-barking.png"] {
            #expect(FileManager.default.fileExists(atPath: work.appendingPathComponent("maps/\(name)").path), "\(name)")
        }
        let bad = try CommandRunner.run("auffusion", [
            "reweight", "a dog barking", "--weight", "dog=2", "--maps", work.appendingPathComponent("m2").path,
            "--maps-resolution", "9x9", "--model", folder.path, "-o", work.appendingPathComponent("d.wav").path, "--quiet",
        ])
        #expect(bad.exitCode == 1 && bad.standardError.contains("9x9"), "\(bad.standardError)")
    }
}
