/// Why a tokenizer, text encoder or condition adapter could not be loaded or run.
///
/// Every case names the file or the value at fault, so the message says what to fix. Weight files
/// themselves report through `WeightsError` (missing, unexpected and mis-shaped keys at once).
public enum TextEncoderError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A file the folder must contain is absent. `expected` lists the names that would do.
    case missingFile(path: String, expected: [String])
    /// The file exists but cannot be read (permissions, I/O error).
    case unreadable(path: String, reason: String)
    /// The file was read but its content is not what it should be (bad JSON, a malformed line).
    case corrupt(path: String, reason: String)
    /// A special token (`<|startoftext|>`, …) named by the configuration is not in `vocab.json`.
    case missingSpecialToken(token: String, path: String)
    /// `config.json` names an activation this port does not implement.
    case unsupportedActivation(String)
    /// A batch of token ids the text encoder cannot take: rows of different lengths, more
    /// positions than the model has, or an id outside the vocabulary.
    case invalidTokens(reason: String)
    /// A prompt longer than ``CLIPTokenizer/maximumPromptLength``.
    case promptTooLong(length: Int, limit: Int)
    /// A word longer than ``CLIPTokenizer/maximumWordLength`` (`word` is its start).
    case wordTooLong(word: String, length: Int, limit: Int)

    public var description: String {
        switch self {
        case .missingFile(let path, let expected):
            expected.count == 1
                ? "\(path) is missing; the folder must contain \(expected[0])"
                : "\(path) contains none of \(expected.joined(separator: ", "))"
        case .unreadable(let path, let reason):
            "cannot read \(path): \(reason)"
        case .corrupt(let path, let reason):
            "\(path) is damaged or not the expected file: \(reason)"
        case .missingSpecialToken(let token, let path):
            "the special token \(token) is not in the vocabulary \(path); the tokenizer files do not belong together"
        case .unsupportedActivation(let name):
            "hidden_act \"\(name)\" is not supported; use \"quick_gelu\" or \"gelu\""
        case .invalidTokens(let reason):
            "cannot encode these token ids: \(reason)"
        case .promptTooLong(let length, let limit):
            "the prompt is \(length) characters long; the limit is \(limit) (the model reads only its first 75 tokens)"
        case .wordTooLong(let word, let length, let limit):
            "the prompt has a word of \(length) characters (\"\(word)\"); the limit is \(limit) characters per word"
        }
    }
}
