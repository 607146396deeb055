import Editing
import FileOutput
import Foundation
import Pipeline

/// An edit plan read from its file, as `auffusion edit PLAN.json` runs it (docs/editing.md,
/// "Composition"): its paths are relative to its folder, and its output must stay inside it.
public struct EditPlanFile: Sendable {
    public let url: URL
    public var document: EditPlanDocument

    /// Reads the plan at `url` (``EditPlanDocument/init(contentsOf:)``: a regular file of limited size).
    /// - Throws: ``EditPlanError/invalidDocument(_:)`` naming the file.
    public init(contentsOf url: URL) throws {
        self.url = url
        do {
            document = try EditPlanDocument(contentsOf: url)
        } catch let error as EditPlanError {
            throw EditPlanError.invalidDocument("\(url.path): \(error)")
        }
    }

    /// The folder the plan's paths are relative to.
    public var folder: URL { url.deletingLastPathComponent() }

    /// The plan's input clip.
    public var input: URL? { document.inputClip(relativeTo: folder) }

    /// The plan's output, inside its folder; `nil` when the plan names none.
    /// - Throws: ``OutputFolder/Error`` for an output outside the folder or naming no file.
    public func output() throws -> URL? {
        try document.output.map { try OutputFolder(folder).file($0) }
    }

    /// Every file the plan reads, never to be overwritten: itself, its input, its saved inversions.
    public var inputs: [URL] { [url] + document.inputs(relativeTo: folder) }

    /// The plan, checked whole against `clip` and `pipeline` (``EditPlanDocument/plan(clipDuration:folder:pipeline:)``).
    public func plan(clip: EditClip?, pipeline: AuffusionPipeline) throws -> EditPlan {
        try document.plan(clipDuration: clip?.duration, folder: folder, pipeline: pipeline)
    }
}
