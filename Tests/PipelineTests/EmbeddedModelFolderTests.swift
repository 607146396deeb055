import Foundation
import Pipeline
import Testing

@Suite("The default model folder")
struct EmbeddedModelFolderTests {
    @Test("$AUFFUSION_MODEL wins; without it the embedded model is found, a complete folder")
    func lookup() throws {
        let chosen = try EmbeddedModel.defaultFolder(environment: ["AUFFUSION_MODEL": "/models/auffusion-full"])
        #expect(chosen.path == "/models/auffusion-full")
        let embedded = try EmbeddedModel.defaultFolder(environment: [:])
        #expect(embedded.lastPathComponent == "auffusion-mini")
        for file in ["unet/config.json", "vae/config.json", "text_encoder/config.json", "tokenizer/vocab.json",
                     "scheduler/scheduler_config.json", "vocoder/config.json"] {
            #expect(FileManager.default.fileExists(atPath: embedded.appendingPathComponent(file).path), "\(file)")
        }
        #expect(try EmbeddedModel.defaultFolder(environment: ["AUFFUSION_MODEL": ""]) == embedded)
    }
}
