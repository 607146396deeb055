import AudioDSP
import Editing
import FileOutput
import Foundation

extension RunOutputs {
    /// Writes an edit of the user's file: the audio outputs are `file` itself with the edit's
    /// fills spliced in, in its own format (``EditedFile``: bit for bit outside the fills); the
    /// picture and the log-mel as ``write(_:source:warn:)``. `warn` hears what the output cannot
    /// keep of the input (``EditedFile/notes(writingTo:)``). Returns the record of the files and
    /// what was done to each fill of the output.
    public func write(_ edit: EditResult, into file: EditedFile,
                      warn: (String) -> Void) throws -> (files: RunRecord.Files, fills: [FillReport]) {
        try AtomicFile.committingTogether { try writeEach(edit, into: file, warn: warn) }
    }

    private func writeEach(_ edit: EditResult, into file: EditedFile, warn: (String) -> Void) throws -> (files: RunRecord.Files, fills: [FillReport]) {
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

    /// Writes an edit of the user's file as ``write(_:into:warn:)`` does and completes `record`:
    /// the files, the output's sample rate and length (the file's, not the model's) and, in its
    /// details, the file's format and fills (``EditedFile/recordDetails(output:fills:)``). A
    /// single edit and a batch line record it alike.
    public func write(_ edit: EditResult, into file: EditedFile, record: inout RunRecord, warn: (String) -> Void) throws {
        try complete(&record, written: try write(edit, into: file, warn: warn), into: file)
    }

    /// Completes `record` for an edit that ``write(_:into:warn:)`` wrote into `file`, once the
    /// files are in place (it reads the audio's length back).
    public func complete(_ record: inout RunRecord, written: (files: RunRecord.Files, fills: [FillReport]), into file: EditedFile) throws {
        record.outputs = written.files
        record.sampleRate = file.outputRate
        if let audio, let frames = try AudioReader(audio).declaredFrameCount { record.seconds = Double(frames) / file.outputRate }
        record.details = (record.details ?? [:]).merging(file.recordDetails(output: audio, fills: written.fills)) { $1 }
    }
}
