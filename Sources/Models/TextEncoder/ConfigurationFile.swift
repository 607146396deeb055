import Foundation

/// Reads the small JSON files of a model folder (`config.json`, tokenizer files) with errors
/// that name the file.
enum ConfigurationFile {
    /// The bytes of `url`.
    /// - Throws: ``TextEncoderError/missingFile(path:expected:)`` or
    ///   ``TextEncoderError/unreadable(path:reason:)``.
    static func read(_ url: URL) throws -> Data {
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw TextEncoderError.missingFile(path: url.path, expected: [url.lastPathComponent])
        }
        do {
            return try Data(contentsOf: url)
        } catch {
            throw TextEncoderError.unreadable(path: url.path, reason: (error as NSError).localizedDescription)
        }
    }

    /// `url` decoded as `T`. A ``TextEncoderError`` thrown while decoding passes through.
    /// - Parameter expected: what the file should hold, for the error message.
    /// - Throws: the errors of ``read(_:)``; ``TextEncoderError/corrupt(path:reason:)`` when the
    ///   JSON does not decode.
    static func decode<T: Decodable>(_ type: T.Type, at url: URL, expected: String) throws -> T {
        let data = try read(url)
        do {
            return try JSONDecoder().decode(T.self, from: data)
        } catch let error as TextEncoderError {
            throw error
        } catch {
            throw TextEncoderError.corrupt(path: url.path, reason: "not \(expected) (\(Self.describe(error)))")
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context),
             .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        default:
            return "\(error)"
        }
    }
}
