import Compute
import Foundation

/// Reads the small JSON files of a model folder (`config.json`, tokenizer files) with errors
/// that name the file: regular files only, at most ``InputFile/configurationLimit`` bytes,
/// strict JSON (``StrictJSON``).
enum ConfigurationFile {
    /// The bytes of `url`.
    /// - Throws: ``TextEncoderError/missingFile(path:expected:)`` or
    ///   ``TextEncoderError/unreadable(path:reason:)`` (also for a FIFO, a device or an oversized file).
    static func read(_ url: URL) throws -> Data {
        do {
            return try InputFile.contents(of: url, limit: InputFile.configurationLimit)
        } catch InputFile.Error.missing {
            throw TextEncoderError.missingFile(path: url.path, expected: [url.lastPathComponent])
        } catch let error as InputFile.Error {
            throw TextEncoderError.unreadable(path: url.path, reason: error.reason)
        }
    }

    /// `url` decoded as `T`. A ``TextEncoderError`` thrown while decoding passes through.
    /// - Parameter expected: what the file should hold, for the error message.
    /// - Throws: the errors of ``read(_:)``; ``TextEncoderError/corrupt(path:reason:)`` when the
    ///   JSON does not decode.
    static func decode<T: Decodable>(_ type: T.Type, at url: URL, expected: String) throws -> T {
        let data = try read(url)
        do {
            return try StrictJSON.decode(T.self, from: data)
        } catch let error as TextEncoderError {
            throw error
        } catch {
            throw TextEncoderError.corrupt(path: url.path, reason: "not \(expected) (\(error))")
        }
    }
}
