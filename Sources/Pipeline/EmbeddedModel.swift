import Foundation

/// The small model that ships with the toolkit (`docs/mini-model.md`): Auffusion's architecture,
/// trained by `make mini-model` on synthetic captioned tones, beeps and noise, so that every
/// command works before the real weights are downloaded. It is what `--model` defaults to.
public enum EmbeddedModel {
    /// The folder's name among the `Pipeline` target's resources.
    static let folderName = "auffusion-mini"

    /// Environment variable naming a model folder to use instead of the embedded one.
    public static let environmentVariable = "AUFFUSION_MODEL"

    /// The default model folder: `$AUFFUSION_MODEL` when set, else the embedded model, looked up
    /// in the resource bundle beside the executable and then in the source tree it was built from.
    /// - Throws: ``PipelineError/modelNotFound(_:)`` when neither exists.
    public static func defaultFolder(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> URL {
        if let path = environment[environmentVariable], !path.isEmpty { return URL(fileURLWithPath: path) }
        let bundle = "Auffusion_Pipeline.resources/" + folderName
        let executable = Bundle.main.executableURL?.resolvingSymlinksInPath().deletingLastPathComponent()
        let candidates = [Bundle.main.bundleURL.appendingPathComponent(bundle), executable?.appendingPathComponent(bundle),
                          URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                              .appendingPathComponent("Resources").appendingPathComponent(folderName)]
        guard let found = candidates.compactMap({ $0 }).first(where: {
            FileManager.default.fileExists(atPath: $0.appendingPathComponent("unet/config.json").path)
        }) else {
            throw PipelineError.modelNotFound("the embedded model is not beside the executable "
                + "(\(bundle)); give a model folder or set \(environmentVariable)")
        }
        return found
    }
}
