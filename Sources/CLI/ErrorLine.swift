import ArgumentParser
import Editing
import Foundation
import Pipeline
import Schedulers
import Toolkit

/// A failure the command itself detects, with the line to print.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Runs a check of the library at parse time: any error it throws is a usage error, spelt with
/// the flags (``ErrorLine/describe(_:)``).
func usage(_ check: () throws -> Void) throws {
    do { try check() } catch { throw ValidationError(ErrorLine.describe(error)) }
}

/// How an error becomes the one `error:` line: library errors that name a request field are
/// spelt with the flag that sets it, file-system errors say which file and why, and nothing
/// spans more than one line.
enum ErrorLine {
    /// The flag of each ``GenerationRequest`` field a library error may name.
    static let flags = ["steps": "--steps", "guidance": "--guidance", "guidance_rescale": "--guidance-rescale",
                        "duration": "--duration", "prompt": "the prompt", "canvas": "the canvas",
                        "guided_fraction": "--guidance-until", "cache_interval": "--cache-interval", "cache_branch": "--cache-branch",
                        "sample_rate": "--sample-rate", "channels": "--channels"]

    static func describe(_ error: any Error) -> String {
        switch error {
        case PipelineError.invalidValue(let field, let reason):
            return "\(flags[field] ?? field) \(reason)"
        case AttentionMapRun.Failure.longerThanCanvas(let seconds):
            return "attention maps are recorded on one canvas of the model: give --duration \(seconds) s or less"
        case let failure as AttentionMapFiles.Failure:
            return describe(failure, option: "--resolution")
        case SchedulerError.invalidStepCount(let count, let largest) where largest >= 1:
            return "--steps must be between 1 and \(largest) for this model, got \(count)"
        case BatchError.invalidShard(let text):
            return "--shard must be K/N with 0 <= K < N (e.g. 0/4), or auto, got \(text)"
        case BatchError.noScheduler(let reason):
            return "--shard auto: \(reason)"
        case BatchError.invalidSeeds(let reason):
            return "--seeds: \(reason)"
        case ReplaceScheduleError.wordNamedTwice(let word):
            return "--cross-replace-word names \"\(word)\" twice"
        case ReplaceScheduleError.invalidBounds(let field, let reason):
            let option = switch field {
            case .cross: "--cross-replace"
            case .selfAttention: "--self-replace"
            case .word(let word): "--cross-replace-word \(word)"
            }
            return "\(option): \(reason)"
        case ClipStart.Failure.stepsDifferFromInversion(let given, let inversion):
            return "--steps \(given) does not apply to --inversion: its file has a schedule of \(inversion) steps; leave --steps out"
        case EditingError.formatOfRawResult(let sampleRate):
            return "--raw writes the model's decoding as it is (mono, \(sampleRate) Hz): drop --sample-rate, --channels and --sample-format"
        case ClipStart.Failure.schedulerWithInversion:
            return "--scheduler does not apply to an inversion start (it steps with DDIM); use --start sdedit to choose a sampler"
        case let error as CocoaError:
            let path = (error.userInfo[NSFilePathErrorKey] as? String) ?? error.errorUserInfo[NSFilePathErrorKey] as? String
            // Foundation's own text for the other codes is "(NSCocoaErrorDomain error 512.)"; the
            // system's reason underneath says what happened (a file where a folder should be, …).
            let underlying = (error.userInfo[NSUnderlyingErrorKey] as? any Error).map { $0 as NSError }.flatMap { $0.domain == NSPOSIXErrorDomain ? $0 : nil }
            let what = switch error.code {
            case .fileReadNoSuchFile, .fileNoSuchFile: "no such file"
            case .fileReadNoPermission, .fileWriteNoPermission: "permission denied"
            case .fileWriteOutOfSpace: "no space left on the device"
            default: underlying.map { String(cString: strerror(Int32($0.code))) } ?? error.localizedDescription
            }
            return path.map { "\($0): \(what)" } ?? what
        default:
            return "\(error)"
        }
    }

    /// A map level not stored, spelt with the `option` that asked for it.
    static func describe(_ failure: AttentionMapFiles.Failure, option: String) -> String {
        switch failure {
        case .notStored(let resolution, let stored):
            "\(option) \(resolution) is not stored for this model; use one of \(stored.map(\.description).joined(separator: ", "))"
        }
    }

    /// `text` on one line, at most 600 characters.
    static func oneLine(_ text: String) -> String {
        let line = text.split(whereSeparator: \.isNewline).joined(separator: " ")
        return line.count > 600 ? line.prefix(600) + "…" : line
    }
}
