import Editing
import Foundation

extension RunOutputs {
    /// Writes an edit of the user's file: the audio outputs are `file` itself with the edit's
    /// fills spliced in, in its own format (``EditedFile``: bit for bit outside the fills); the
    /// picture and the log-mel as ``write(_:source:warn:)``. `warn` hears what the output cannot
    /// keep of the input (``EditedFile/notes(writingTo:)``). Returns the record of the files and
    /// what was done to each fill of the output.
    public func write(_ edit: EditResult, into file: EditedFile,
                      warn: (String) -> Void) throws -> (files: RunRecord.Files, fills: [FillReport]) {
        var others = self
        (others.audio, others.sourceAudio) = (nil, nil)
        var files = try others.write(edit.output, source: edit.source, warn: warn)
        var reports: [FillReport] = []
        if let audio {
            file.notes(writingTo: audio).forEach(warn)
            reports = try file.write(edit.fills, to: audio, protecting: inputs)
            files.audio = audio.path
        }
        if let sourceAudio, edit.source != nil {
            try file.write(edit.sourceFills, to: sourceAudio, protecting: inputs)
            files.sourceAudio = sourceAudio.path
        }
        return (files, reports)
    }
}
