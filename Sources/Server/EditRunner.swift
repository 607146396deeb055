import AudioDSP
import Editing
import Foundation
import Models
import Pictures
import Pipeline
import Toolkit

/// Runs one edit on the model the server loaded once, as `auffusion edit` runs its plan: the
/// parent version read at any length (``EditClip``, posterior mean), the plan run by Toolkit's
/// ``EditRun`` step by step (windows of the canvas for a long clip), a fill written into the
/// parent's own file (``EditedFile``) and any other result by the CLI's writer (peak guard, the
/// clip's container), then the version's spectrogram picture, plan file and attention heatmaps.
/// A prompt edit from the parent's DDIM inversion reuses the one saved beside it (``VersionInversion``).
struct EditRunner: Sendable {
    let pipeline: AuffusionPipeline
    let folder: WorkFolder

    /// Runs `document` with `seed` on clip `clip`, writing version `number`; `progress` hears
    /// every step and every window encoded, decoded and vocoded, and stops the run by returning `false`. The plan keeps
    /// `auffusion edit`'s defaults (20 ms crossfades, fills at the level of their surroundings).
    /// - Returns: the new version (not yet added to the clip).
    func run(_ document: EditPlanDocument, seed: UInt64, kind: EditRequest.Kind, clip id: String, number: Int,
             parent: Version?, progress: (JobProgress) -> Bool) throws -> Version {
        let clipFolder = folder.folder(of: id)
        var noise = NoiseSource(seed: seed)
        var notes: [String] = []
        let inputURL = parent.map { clipFolder.appendingPathComponent($0.file) }
        var clip = try inputURL.map { try EditClip(try AudioFile.read($0), pipeline: pipeline) }
        var plan = try document.plan(clipDuration: clip?.duration, pipeline: pipeline)
        var inverted = 0
        if let parent, let parentClip = clip {
            let file = clipFolder.appendingPathComponent("v\(parent.number).ddim.inversion")
            let reused = try VersionInversion(pipeline: pipeline).reusing(plan, clip: parentClip, file: file, progress: progress)
            (plan, inverted) = (reused.plan, reused.inverted)
            clip?.encoded = reused.encoded
        }
        let (result, _) = try EditRun(plan, clip: clip)(pipeline: pipeline, noise: &noise) { step in
            // While the clip is encoded, before the plan is checked, the total is not known: none is shown.
            progress(JobProgress(step: inverted + step.stepsDone, total: step.totalSteps > 0 ? inverted + step.totalSteps : 0,
                                 rendering: step.rendering))
        }
        guard let output = document.output else { throw ServerError(.internalServerError, "the plan names no output") }
        let outputURL = clipFolder.appendingPathComponent(output)
        let outputs = try RunOutputs(audio: outputURL, inputs: inputURL.map { [$0] } ?? [])
        if let inputURL, !result.fills.isEmpty {
            _ = try outputs.write(result, into: try EditedFile(source: inputURL), warn: { notes.append($0) })
        } else {
            _ = try outputs.write(result.output, warn: { notes.append($0) })
        }
        if result.output.droppedTokenCount > 0 {
            notes.append("the prompt is longer than 75 tokens; the last \(result.output.droppedTokenCount) were dropped")
        }
        let planData = try Self.encoder.encode(document)
        try planData.write(to: clipFolder.appendingPathComponent("v\(number).plan.json"), options: .atomic)
        var version = try describe(outputURL, number: number, kind: kind.rawValue, in: id)
        version.parent = parent?.number
        version.prompt = document.passes.last?.prompt
        version.sourcePrompt = document.passes.last?.attention?.source
        version.plan = document
        version.seed = seed
        version.replay = "auffusion edit v\(number).plan.json --seed \(seed)"
        if let store = result.attentionStore, let prompt = version.prompt {
            version.maps = try maps(store, prompt: prompt, image: result.output.image, number: number, in: clipFolder)
        }
        version.notes = notes
        return version
    }

    /// A version record for the audio file at `url` (written by the server), with its spectrogram picture.
    func describe(_ url: URL, number: Int, kind: String, in id: String) throws -> Version {
        let audio = try AudioFile.read(url)
        let image = SpectrogramImage(logMel: try MelAnalyzer(pipeline.melParameters).logMel(of: audio))   // [mels, frames]
        try SpectrogramPicture.render(image).writePNG(to: folder.folder(of: id).appendingPathComponent("v\(number).png"))
        return Version(number: number, kind: kind, file: url.lastPathComponent, seconds: audio.duration,
                       sampleRate: audio.sampleRate, channels: audio.channelCount)
    }

    /// The edited prompt's per-word heatmaps at the finest level the store keeps.
    private func maps(_ store: AttentionStore, prompt: String, image: SpectrogramImage, number: Int,
                      in clipFolder: URL) throws -> [Version.AttentionMap] {
        // The finest level the run stored (joined over the span for an edit run in windows).
        guard let finest = store.entries.filter(\.site.isCrossAttention).max(by: { $0.site.queryCount < $1.site.queryCount })
        else { return [] }
        let resolution = AttentionResolution(height: finest.site.height, width: finest.site.width)
        let mapFolder = clipFolder.appendingPathComponent("v\(number)-maps", isDirectory: true)
        let written = try AttentionMapFiles.write(store: store, prompt: prompt, index: store.promptCount - 1,
                                                  tokenizer: pipeline.tokenizer, image: image, resolution: resolution,
                                                  to: mapFolder)
        let words = PromptTokens(prompt, tokenizer: pipeline.tokenizer).words
        return written.pictures.map { picture in
            let position = Int(picture.prefix(2)) ?? 0
            return Version.AttentionMap(word: words.indices.contains(position) ? words[position].text : picture, picture: picture)
        }
    }

    static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()
}
