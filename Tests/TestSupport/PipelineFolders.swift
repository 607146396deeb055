import Foundation

/// The fixture model folders with the shared CLIP tokenizer files copied in, as published.
public enum PipelineFolders {
    /// A copy of `Tests/Fixtures/pipeline/<layout>` ("adapter" or "standard") with the CLIP
    /// tokenizer files put where that layout keeps them.
    public static func folder(_ layout: String) throws -> URL {
        let destination = try Fixtures.temporaryDirectory().appendingPathComponent(layout)
        try FileManager.default.copyItem(at: Fixtures.url("pipeline/\(layout)"), to: destination)
        let tokenizerFolder = destination.appendingPathComponent(layout == "adapter" ? "text_encoder_0" : "tokenizer")
        try FileManager.default.createDirectory(at: tokenizerFolder, withIntermediateDirectories: true)
        for file in ["vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json"] {
            try FileManager.default.copyItem(at: Fixtures.url("clip/tokenizer/\(file)"),
                                             to: tokenizerFolder.appendingPathComponent(file))
        }
        return destination
    }
}

