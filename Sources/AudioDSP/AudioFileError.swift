import FileOutput
/// Why an audio file could not be read or written. Each message names the file and says what
/// the user can do about it.
public enum AudioFileError: Error, Equatable, CustomStringConvertible {
    /// The file does not exist.
    case missing(path: String)
    /// libsndfile could not decode the file (corrupt, or a format it does not know).
    case unreadable(path: String, reason: String)
    /// The file holds no samples.
    case empty(path: String)
    /// The file holds NaN or infinite samples.
    case nonFiniteSamples(path: String)
    /// The decoded samples would pass the limit of ``AudioReadLimits``.
    case tooLarge(path: String, limitBytes: Int)
    /// The environment variable that sets the decoded-size limit holds no valid value.
    case invalidLimit(variable: String, value: String)
    /// The output extension names no format this toolkit writes.
    case unsupportedExtension(path: String)
    /// The output path is one of the inputs.
    case wouldOverwriteInput(path: String)
    /// libsndfile could not create or write the output.
    case unwritable(path: String, reason: String)
    /// The file system has no room left for the output (or the user's quota is used up).
    case noSpace(path: String)

    public var description: String {
        switch self {
        case .missing(let path): "no audio file at \(path)"
        case .unreadable(let path, let reason): "cannot read audio from \(path): \(reason)"
        case .empty(let path): "\(path) contains no audio samples"
        case .nonFiniteSamples(let path): "\(path) contains NaN or infinite samples"
        case .tooLarge(let path, let limit):
            "\(path) decodes to more than \(limit >> 20) MiB of samples, the limit; read it in pieces, "
                + "or set \(AudioReadLimits.environmentVariable) to a larger number of MiB"
        case .invalidLimit(let variable, let value):
            "\(variable) is \"\(value)\"; give a whole number of MiB from 1 to \(1 << 30)"
        case .unsupportedExtension(let path):
            "cannot write \(path): unknown extension; use .wav, .flac, .ogg or .aiff"
        case .wouldOverwriteInput(let path): "refusing to overwrite the input file \(path); choose another output path"
        case .unwritable(let path, let reason): "cannot write \(path): \(reason)"
        case .noSpace(let path): "\(AtomicFile.Error.noSpace(path: path))"
        }
    }
}

extension AudioFileError {
    /// An atomic write's failure as a failure of the audio file.
    init(_ error: AtomicFile.Error) {
        switch error {
        case .wouldOverwriteInput(let path): self = .wouldOverwriteInput(path: path)
        case .unwritable(let path, let reason): self = .unwritable(path: path, reason: reason)
        case .noSpace(let path): self = .noSpace(path: path)
        }
    }
}
