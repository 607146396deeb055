import AudioDSP
import Editing
import FileOutput
import Foundation
import Pipeline
import Toolkit

extension FuzzTarget {
    /// The embedded model, and a one-second clip encoded with it, loaded once: what an edit
    /// plan is checked against.
    struct EditingModel: Sendable {
        let pipeline: AuffusionPipeline
        let clip: ClipLatents

        static let embedded: EditingModel? = {
            let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../Sources/Pipeline/Resources/auffusion-mini").standardized
            guard let pipeline = try? AuffusionPipeline(folder: folder) else { return nil }
            let rate = Double(pipeline.melParameters.sampleRate)
            let tone = AudioBuffer(mono: (0..<Int(rate)).map { Float(0.3 * sin(2 * Double.pi * 440 * Double($0) / rate)) }, sampleRate: rate)
            var mean: NoiseSource?
            guard let clip = try? ClipLatents(encoding: tone, pipeline: pipeline, posteriorNoise: &mean) else { return nil }
            return EditingModel(pipeline: pipeline, clip: clip)
        }()
    }

    /// An edit plan, as `auffusion edit PLAN.json` reads it: strict JSON and the schema's keys,
    /// then every check that runs before the first step (masks against the clip, words against
    /// the prompts, requests against the model, schedules, attention edits). A plan that decodes
    /// must also survive encoding, as a front end's history stores it.
    static let editPlan = FuzzTarget(name: "edit-plan", summary: "edit plans (auffusion edit PLAN.json)",
                                     prepare: { _ = EditingModel.embedded }) { input in
        guard let document = try? EditPlanDocument(json: input), let model = EditingModel.embedded else { return }
        let encoded = try? JSONEncoder().encode(document)
        precondition(encoded.flatMap { try? EditPlanDocument(json: $0) } == document, "a decoded plan does not decode again after encoding")
        let clip = document.input == nil ? nil : model.clip
        guard let plan = try? document.plan(clipDuration: clip?.duration, pipeline: model.pipeline) else { return }
        _ = try? plan.validate(clip: clip, pipeline: model.pipeline)
    }

    /// A batch file, as `--batch FILE.jsonl` reads it. The first byte picks the kind of line
    /// (bit 0: edits, else generations), the takes (bits 1–2: 1 to 4) and, with bit 3, that the
    /// file's first line is a `--seeds` list; the rest is the file. Every line is read strictly
    /// and planned: names, seeds, confined outputs, duplicates, shards.
    static let batch = FuzzTarget(name: "batch", summary: "batch files of generations or edits (--batch FILE.jsonl), --seeds lists") { input in
        guard let selector = input.first else { return }
        var file = input.dropFirst()
        var takes = (try? Takes(count: Int(selector >> 1 & 3) + 1)) ?? .one
        if selector & 8 != 0 {
            let list = file.prefix { $0 != UInt8(ascii: "\n") }
            file = file.dropFirst(list.count)
            guard let seeds = try? Takes(seeds: String(decoding: list, as: UTF8.self)) else { return }
            takes = seeds
        }
        let url = Scratch.file("batch.jsonl", Data(file))
        let folder = OutputFolder(Scratch.folder.appendingPathComponent("out"))
        if selector & 1 == 0 {
            guard let plan = try? BatchPlan<BatchItem>(file: url, folder: folder, takes: takes) else { return }
            for task in plan.tasks(in: Shard(index: 0, count: 2)) {
                guard let item = try? task.item.get() else { continue }
                _ = item.request(defaults: GenerationRequest(prompt: ""))
                _ = BatchItem.fileName(for: item.prompt)
            }
        } else {
            guard let plan = try? BatchPlan<EditBatchLine>(file: url, folder: folder, takes: takes) else { return }
            _ = plan.tasks(in: Shard(index: 1, count: 3)).map(\.output)
        }
    }
}
