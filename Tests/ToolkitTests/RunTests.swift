import AudioDSP
import Compute
import Editing
import FileOutput
import Foundation
import Pipeline
import Testing
import TestSupport
import Toolkit

@Suite("The runs every front end shares: outputs written, records made as the commands print them")
struct RunTests {
    let pipeline: AuffusionPipeline
    let folder: URL

    init() throws {
        pipeline = try AuffusionPipeline(folder: try PipelineFolders.folder("standard"))
        folder = try Fixtures.temporaryDirectory()
    }

    private func file(_ name: String) -> URL { folder.appendingPathComponent(name) }

    /// One step on a 64-frame canvas: quick on the test model.
    private var request: GenerationRequest {
        var request = GenerationRequest(prompt: "rain")
        (request.stepCount, request.canvasFrames, request.duration) = (1, 64, 0.64)
        return request
    }

    @Test("a generation writes its audio and records its request, seed, windows and what it wrote")
    func generation() throws {
        var noise = NoiseSource(seed: 7), steps = 0
        let record = try GenerationRun(request, seed: 7)(pipeline: pipeline, noise: &noise, outputs: try RunOutputs(audio: file("a.wav"), inputs: []),
                                                          started: Date(), progress: { _ in steps += 1; return true }, warn: { _ in })
        var again = NoiseSource(seed: 7)
        let expected = try pipeline.generate(request, noise: &again)
        #expect(steps >= 1)
        #expect(record.command == "generate" && record.seed == 7 && record.steps == 1 && record.prompt == "rain")
        #expect(record.outputs.audio == file("a.wav").standardizedFileURL.path && record.details == ["windows": .number(1)])
        #expect(record.seconds == expected.audio.duration)
        #expect(try AudioFile.read(file("a.wav")).frameCount == expected.audio.frameCount)
    }

    @Test("an attention run writes the maps of its prompt beside the audio into its folder and records them; one past the canvas or at a level not stored is refused and leaves no folder")
    func attentionMaps() throws {
        let resolution = try #require(AttentionMapFiles.storedResolutions(pipeline: pipeline, canvasFrames: 64).first)
        var noise = NoiseSource(seed: 1)
        let record = try AttentionMapRun(request, seed: 1, resolution: resolution)(pipeline: pipeline, noise: &noise, into: file("maps"),
                                                                                    inputs: [], started: Date(), warn: { _ in })
        #expect(record.command == "attention" && record.outputs.maps == file("maps").standardizedFileURL.path)
        #expect(record.details?["resolution"] == .string(resolution.description) && record.details?["heatmaps"] == .array([.string("00-rain.png")]))
        for name in ["maps.npy", "00-rain.png", "audio.wav", "spectrogram.png"] {
            #expect(FileManager.default.fileExists(atPath: file("maps/\(name)").path), "\(name)")
        }
        var long = request
        (long.canvasFrames, long.duration) = (nil, 2 * Double(pipeline.canvasFrames) / pipeline.melParameters.framesPerSecond)
        #expect(throws: AttentionMapRun.Failure.self) {
            try AttentionMapRun(long, seed: 1)(pipeline: pipeline, noise: &noise, into: file("long"), inputs: [], started: Date(), warn: { _ in })
        }
        #expect(throws: AttentionMapFiles.Failure.self) {   // the level check the run shares with swap --maps
            try AttentionMapRun(request, seed: 1, resolution: AttentionResolution(height: 3, width: 3))(
                pipeline: pipeline, noise: &noise, into: file("odd"), inputs: [], started: Date(), warn: { _ in })
        }
        var unprompted = request   // guided with no prompt: refused when the run starts, after the folder is made
        unprompted.prompt = ""
        #expect(throws: PipelineError.self) {
            try AttentionMapRun(unprompted, seed: 1)(pipeline: pipeline, noise: &noise, into: file("made"), inputs: [], started: Date(), warn: { _ in })
        }
        for name in ["long", "odd", "made"] { #expect(!FileManager.default.fileExists(atPath: file(name).path), "\(name)") }
    }

    @Test("an edit plan from noise runs through EditRun, records the last pass and writes the decoded result")
    func editRun() throws {
        var noise = NoiseSource(seed: 2)
        let plan = EditPlan([EditPass(start: .noise, request: request)])
        let (result, record) = try EditRun(plan, clip: nil).run(command: "edit", seed: 2, details: ["passes": .number(1)], pipeline: pipeline,
                                                                noise: &noise, outputs: try RunOutputs(audio: file("e.wav"), inputs: []),
                                                                started: Date(), warn: { _ in })
        #expect(record.command == "edit" && record.seed == 2 && record.input == nil && record.details?["passes"] == .number(1))
        #expect(record.outputs.audio == file("e.wav").standardizedFileURL.path && record.seconds == result.output.audio.duration)
    }

    @Test("a prompt edit's run writes the edited prompt's attention maps when asked for")
    func editMaps() throws {
        var noise = NoiseSource(seed: 2), edited = request
        edited.prompt = "a cat"
        let pass = try PromptEditRequest(source: "a dog", alignment: .swap).pass(request: edited, onClip: false, tokenizer: pipeline.tokenizer).pass
        let level = try #require(AttentionMapFiles.storedResolutions(pipeline: pipeline, canvasFrames: 64).first)
        var run = EditRun(EditPlan([pass]), clip: nil)
        run.mapsResolution = level
        try FileManager.default.createDirectory(at: file("edit-maps"), withIntermediateDirectories: true)
        let outputs = try RunOutputs(audio: file("edit-maps/cat.wav"), maps: file("edit-maps"), inputs: [])
        let record = try run.run(command: "swap", seed: 2, details: [:], pipeline: pipeline, noise: &noise, outputs: outputs,
                                 started: Date(), warn: { _ in }).record
        #expect(record.outputs.maps == file("edit-maps").standardizedFileURL.path && record.sourcePrompt == "a dog")
        #expect(FileManager.default.fileExists(atPath: file("edit-maps/01-cat.png").path))
    }

    @Test("an inversion is written once and recorded with its settings and size")
    func inversion() throws {
        let clip = AudioBuffer(mono: (0..<16000).map { Float(0.3 * sin(Double($0) * 0.05)) }, sampleRate: 16000)
        let settings = InversionSettings(method: .ddim, sourcePrompt: "a tone", stepCount: 2)
        let outputs = try RunOutputs(inversion: file("clip.inversion"), inputs: [])
        let record = try InversionRun(settings, seed: 3)(clip: try EditClip(clip, pipeline: pipeline), input: file("clip.wav"),
                                                         pipeline: pipeline, outputs: outputs, started: Date())
        let size = try FileManager.default.attributesOfItem(atPath: file("clip.inversion").path)[.size] as? Int
        #expect(record.command == "invert" && record.prompt == "a tone" && record.steps == 2 && record.guidance == 1)
        #expect(record.details == ["method": .string("ddim"), "start_step": .number(2), "bytes": .number(Double(size ?? -1))])
        #expect(record.outputs.inversion == file("clip.inversion").standardizedFileURL.path)
    }

    @Test("a plan file resolves its input and inversions against its folder and keeps its output inside it")
    func planFile() throws {
        let plan = file("plans/plan.json")
        try FileManager.default.createDirectory(at: file("plans"), withIntermediateDirectories: true)
        let passes = #"[{"prompt": "rain", "start": {"from": "inversion", "file": "saved.inversion"}}]"#
        try Data(#"{"input": "../clip.wav", "output": "out.wav", "passes": \#(passes)}"#.utf8).write(to: plan)
        let planFile = try EditPlanFile(contentsOf: plan)
        #expect(planFile.input == file("clip.wav").standardizedFileURL)
        #expect(try planFile.output() == file("plans/out.wav").standardizedFileURL)
        #expect(planFile.inputs.map(\.standardizedFileURL.path) == [plan, file("clip.wav"), file("plans/saved.inversion")].map(\.standardizedFileURL.path))

        try Data(#"{"output": "../out.wav", "passes": \#(passes)}"#.utf8).write(to: plan)
        #expect(throws: OutputFolder.Error.self) { try EditPlanFile(contentsOf: plan).output() }
        try Data("{".utf8).write(to: plan)
        let error = #expect(throws: EditPlanError.self) { try EditPlanFile(contentsOf: plan) }
        #expect(error.map { "\($0)".hasPrefix("\(plan.path): not plain JSON") } == true)
    }

    @Test("a spectrogram analysis draws the clip and writes the log-mel, of a silent clip too")
    func spectrogram() throws {
        let tone = AudioBuffer(mono: (0..<16000).map { Float(0.3 * sin(Double($0) * 0.2)) }, sampleRate: 16000)
        try AudioFile.write(tone, to: file("tone.wav"))
        var analysis = SpectrogramAnalysis(input: file("tone.wav"), picture: file("tone.png"))
        analysis.mel = file("tone.npy")
        let record = try analysis(started: Date())
        #expect(record.command == "spectrogram" && record.sampleRate == 16000 && record.seconds == 1)
        #expect(record.outputs.spectrogram == file("tone.png").path && record.outputs.mel == file("tone.npy").path)
        #expect(try NumPyFile.read(file("tone.npy")).shape[0] == 256)

        try AudioFile.write(AudioBuffer(mono: [Float](repeating: 0, count: 1600), sampleRate: 16000), to: file("silent.wav"))
        let silent = try SpectrogramAnalysis(input: file("silent.wav"), picture: file("silent.png"))(started: Date())
        #expect(silent.seconds == 0.1 && FileManager.default.fileExists(atPath: file("silent.png").path))
    }

    @Test("a resynthesis by Griffin-Lim reports its iterations and writes audio as long as the log-mel")
    func resynthesis() throws {
        try NumPyFile.write(Tensor(shape: [256, 50], scalars: [Float](repeating: -4, count: 256 * 50)), to: file("mel.npy"))
        var reported: [Int] = []
        let record = try Resynthesis(model: nil, iterations: 2)(logMel: file("mel.npy"), outputs: try RunOutputs(audio: file("back.wav"), inputs: [file("mel.npy")]),
                                                                started: Date(), progress: { done, _ in reported.append(done); return true }, warn: { _ in })
        let audio = try AudioFile.read(file("back.wav"))
        #expect(reported.last == 2)
        #expect(record.command == "vocode" && record.sampleRate == 16000 && record.seconds == audio.duration)
        #expect(abs(audio.duration - 0.5) < 0.02)
    }
}
