import Compute
import Foundation

/// Reading a tokenizer folder: `vocab.json` and `merges.txt`, plus `tokenizer_config.json` and
/// `special_tokens_map.json` when present (the diffusers `tokenizer/` folder, or Auffusion's
/// `text_encoder_N/`).
extension CLIPTokenizer {
    /// transformers' slow `CLIPTokenizer` reads at most this many merges (lines 1 to 48,894 of
    /// `merges.txt`: `49152 − 256 − 2`, the size of CLIP's BPE vocabulary); the rest are ignored.
    public static let mergeLimit = 49152 - 256 - 2

    /// Loads the tokenizer files in `folder`.
    ///
    /// As transformers' `from_pretrained` does, the special tokens come from
    /// `special_tokens_map.json` if it names them, else from `tokenizer_config.json`, else are
    /// CLIP's; ``maxLength`` is `model_max_length` from `tokenizer_config.json`, or 77 when that
    /// is absent or implausibly large (transformers writes 10³⁰ for "no limit"). `merges.txt`
    /// is read like transformers reads it: the whole file stripped of surrounding whitespace,
    /// the first line (the `#version` header) skipped, the next ``mergeLimit`` lines used.
    /// - Throws: ``TextEncoderError/missingFile(path:expected:)`` without `vocab.json` or
    ///   `merges.txt`; ``TextEncoderError/corrupt(path:reason:)`` for a file that does not parse
    ///   (the reason names the line of a bad merge); ``TextEncoderError/unreadable(path:reason:)``;
    ///   ``TextEncoderError/missingSpecialToken(token:path:)``.
    public init(contentsOf folder: URL, mode: Mode = .slow) throws {
        let vocabularyURL = folder.appendingPathComponent("vocab.json")
        let vocabulary = try ConfigurationFile.decode([String: Int].self, at: vocabularyURL,
                                                      expected: "a JSON object mapping each token to an integer id")
        let merges = try Self.readMerges(folder.appendingPathComponent("merges.txt"))
        var settings = try Self.readSettings(folder.appendingPathComponent("tokenizer_config.json"))
        let overrides = try Self.readSettings(folder.appendingPathComponent("special_tokens_map.json"))
        settings.begin = overrides.begin ?? settings.begin
        settings.end = overrides.end ?? settings.end
        settings.unknown = overrides.unknown ?? settings.unknown
        settings.padding = overrides.padding ?? settings.padding
        let clip = SpecialTokens.clip
        let special = SpecialTokens(begin: settings.begin ?? clip.begin, end: settings.end ?? clip.end,
                                    unknown: settings.unknown ?? clip.unknown, padding: settings.padding ?? clip.padding)
        do {
            try self.init(vocabulary: vocabulary, merges: merges, specialTokens: special,
                          maxLength: settings.maxLength ?? 77, mode: mode)
        } catch TextEncoderError.missingSpecialToken(let token, _) {
            throw TextEncoderError.missingSpecialToken(token: token, path: vocabularyURL.path)
        }
    }

    /// The merges of `merges.txt`, read as Python reads it in text mode (`\r\n` and `\r` end
    /// lines too) and split at Python whitespace, character by character.
    private static func readMerges(_ url: URL) throws -> [(String, String)] {
        guard let text = String(data: try ConfigurationFile.read(url), encoding: .utf8) else {
            throw TextEncoderError.corrupt(path: url.path, reason: "not UTF-8 text")
        }
        var scalars: [Unicode.Scalar] = []
        var afterCarriageReturn = false
        for scalar in text.unicodeScalars {
            if !(scalar == "\n" && afterCarriageReturn) { scalars.append(scalar == "\r" ? "\n" : scalar) }
            afterCarriageReturn = scalar == "\r"
        }
        guard let first = scalars.firstIndex(where: { !UnicodeClass.isPythonWhitespace($0) }),
              let last = scalars.lastIndex(where: { !UnicodeClass.isPythonWhitespace($0) }) else { return [] }
        let lines = scalars[first...last].split(separator: "\n", omittingEmptySubsequences: false)
        return try lines.dropFirst().prefix(mergeLimit).enumerated().map { offset, line in
            let parts = line.split(whereSeparator: UnicodeClass.isPythonWhitespace)
            guard parts.count == 2 else {
                throw TextEncoderError.corrupt(path: url.path, reason: "line \(offset + 2) is \"\(String(String.UnicodeScalarView(line)).abbreviated())\", "
                                               + "not two symbols separated by a space")
            }
            return (String(String.UnicodeScalarView(parts[0])), String(String.UnicodeScalarView(parts[1])))
        }
    }

    /// What `tokenizer_config.json` or `special_tokens_map.json` says, if the file exists.
    private static func readSettings(_ url: URL) throws -> Settings {
        guard FileManager.default.fileExists(atPath: url.path) else { return Settings() }
        return try ConfigurationFile.decode(Settings.self, at: url, expected: "a tokenizer configuration")
    }

    /// The keys of `tokenizer_config.json` and `special_tokens_map.json` the tokenizer uses. A
    /// special token is written either as its text or as an `AddedToken` object with `content`.
    private struct Settings: Decodable {
        var begin: String?
        var end: String?
        var unknown: String?
        var padding: String?
        var maxLength: Int?

        enum CodingKeys: String, CodingKey {
            case begin = "bos_token", end = "eos_token", unknown = "unk_token", padding = "pad_token"
            case maxLength = "model_max_length"
        }

        private struct AddedToken: Decodable {
            var content: String
        }

        init() {}

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            func token(_ key: CodingKeys) throws -> String? {
                guard container.contains(key), try !container.decodeNil(forKey: key) else { return nil }
                if let text = try? container.decode(String.self, forKey: key) { return text }
                return try container.decode(AddedToken.self, forKey: key).content
            }
            begin = try token(.begin)
            end = try token(.end)
            unknown = try token(.unknown)
            padding = try token(.padding)
            // Within ±10⁶ only: the conversion to Int traps outside Int's range (-1e300), and a
            // larger value is transformers' "no limit".
            if let limit = try container.decodeIfPresent(Double.self, forKey: .maxLength), abs(limit) <= 1_000_000 {
                maxLength = Int(limit)
            }
        }
    }
}
