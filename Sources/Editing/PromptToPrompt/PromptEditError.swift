/// Why a prompt-to-prompt edit could not be set up.
public enum PromptEditError: Error, Equatable, CustomStringConvertible {
    /// A word the edit names does not occur in the prompt (split at spaces, exact text).
    case unknownWord(String, prompt: String, tokens: [String])
    /// A word of the prompt whose tokens all come after the 75 the text encoder reads.
    case pastTokenWindow(String)
    /// A word swap needs prompts with the same number of space-separated words.
    case wordCountMismatch(source: String, target: String)
    /// A setting is out of range or the prompts do not fit the edit.
    case invalid(String)

    public var description: String {
        switch self {
        case .unknownWord(let word, let prompt, let tokens):
            "\"\(word)\" is not a word of \"\(prompt)\" (its tokens: \(Self.list(tokens)))"
        case .pastTokenWindow(let word):
            "\"\(word)\" comes after the \(PromptTokens.tokenWindow - 1) tokens of the prompt that the text encoder reads, so an edit "
                + "cannot reach it; shorten the prompt or move the word forward"
        case .wordCountMismatch(let source, let target):
            "a word swap needs prompts with the same number of words: \"\(source)\" and \"\(target)\""
        case .invalid(let reason): reason
        }
    }

    private static func list(_ tokens: [String]) -> String { tokens.map { "'\($0)'" }.joined(separator: " ") }
}
