import Foundation
import Pipeline
import Testing
import TestSupport
import Weights

@Suite("Recognising model folders")
struct ModelDirectoryTests {
    @Test("both published layouts are recognised", arguments: ["adapter", "standard"])
    func layouts(_ layout: String) throws {
        let directory = try ModelDirectory(try PipelineFolders.folder(layout))
        switch directory.text {
        case .adapter(let conditions):
            #expect(layout == "adapter")
            #expect(conditions.count == 1 && conditions[0].maxLength == 77)
            #expect(conditions[0].textEncoder.lastPathComponent == "text_encoder_0")
        case .standard(let textEncoder, let tokenizer):
            #expect(layout == "standard")
            #expect(textEncoder.lastPathComponent == "text_encoder" && tokenizer.lastPathComponent == "tokenizer")
        }
    }

    @Test("a partial folder names everything that is missing at once")
    func incomplete() throws {
        let folder = try PipelineFolders.folder("standard")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("vae"))
        try FileManager.default.removeItem(at: folder.appendingPathComponent("tokenizer/merges.txt"))
        #expect(throws: ModelDirectoryError.incomplete(path: folder.path, missing: ["vae/config.json", "tokenizer/merges.txt"])) {
            try ModelDirectory(folder)
        }
    }

    @Test("an image model (no vocoder/) and a missing folder are refused with their own errors")
    func foreign() throws {
        let folder = try PipelineFolders.folder("standard")
        try FileManager.default.removeItem(at: folder.appendingPathComponent("vocoder"))
        #expect(throws: ModelDirectoryError.notAudioModel(path: folder.path)) { try ModelDirectory(folder) }
        let nowhere = folder.appendingPathComponent("nothing-here")
        #expect(throws: ModelDirectoryError.notAFolder(path: nowhere.path)) { try ModelDirectory(nowhere) }
    }

    @Test("an unrelated folder is incomplete, not a crash")
    func unrelated() throws {
        let folder = try Fixtures.temporaryDirectory()
        try Data("{}".utf8).write(to: folder.appendingPathComponent("config.json"))
        #expect(throws: ModelDirectoryError.self) { try ModelDirectory(folder) }
    }
}
