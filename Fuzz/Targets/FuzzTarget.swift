import Foundation

/// One libFuzzer target: a name, and a body that feeds one input to the toolkit's readers the
/// way a run would. The body must return normally for every input — errors are the expected
/// outcome for most of them — so a crash, a hang, a leak past libFuzzer's memory limit or a
/// sanitizer report is a bug.
///
/// The `fuzz` executable (Fuzz/fuzz) runs a target under libFuzzer when built with
/// `-sanitize=fuzzer -DFUZZING` (`make fuzz`), and replays files through it otherwise;
/// `FuzzTests` replays the committed seeds and regression inputs in every `make test`.
public struct FuzzTarget: Sendable {
    /// The target's name: its folder under Fuzz/corpus and Fuzz/regressions.
    public let name: String
    /// What the target reads, for `fuzz --list`.
    public let summary: String
    /// Work done once before the first input (loading a model), so that it does not count
    /// against libFuzzer's time limit per input.
    public let prepare: @Sendable () -> Void
    let body: @Sendable (Data) -> Void

    init(name: String, summary: String, prepare: @escaping @Sendable () -> Void = {}, body: @escaping @Sendable (Data) -> Void) {
        self.name = name
        self.summary = summary
        self.prepare = prepare
        self.body = body
    }

    /// Feeds one input to the target.
    public func callAsFunction(_ input: Data) { body(input) }

    /// Every target.
    public static let all: [FuzzTarget] = [audio, safetensors, torch, pickle, configuration, numpy, tokenizerFiles, prompt,
                                           editPlan, batch]

    /// The target called `name`, if any.
    public static func named(_ name: String) -> FuzzTarget? { all.first { $0.name == name } }
}

/// A scratch folder for targets whose readers take paths, one per process.
enum Scratch {
    static let folder: URL = {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("auffusion-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    /// `data` written to `name` in the scratch folder.
    static func file(_ name: String, _ data: Data) -> URL {
        let url = folder.appendingPathComponent(name)
        try? data.write(to: url)
        return url
    }
}
