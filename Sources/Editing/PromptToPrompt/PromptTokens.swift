import Compute
import Models

/// A prompt with its tokens and words, for addressing words by text in prompt-to-prompt edits.
///
/// Words are the prompt split at each space, with the token positions of
/// `CLIPTokenizer.words(in:)` (port of Auffusion prompt2prompt/ptp_utils.py `get_word_inds`).
public struct PromptTokens: Sendable {
    /// The conditioning length the maps' keys span (`max_num_words`).
    public static let keyCount = 77
    /// Token positions below this are the prompt's words the text encoder reads: BOS, then 75
    /// tokens; the last of the 77 is EOS, which a longer prompt's 76th token never reaches.
    public static let tokenWindow = keyCount - 1

    public let prompt: String
    /// `[BOS, t₁ … tₙ, EOS]`, unpadded.
    public let ids: [Int]
    public let words: [PromptWord]
    /// Each token decoded on its own, for error messages.
    public let tokenTexts: [String]

    public init(_ prompt: String, tokenizer: CLIPTokenizer) {
        self.prompt = prompt
        ids = tokenizer.encode(prompt, padding: .none).ids
        words = tokenizer.words(in: prompt)
        tokenTexts = tokenizer.tokenIDs(prompt).map { tokenizer.decode([$0]) }
    }

    /// The token positions of every occurrence of `word` (`get_word_inds(prompt, word)`).
    ///
    /// Beyond the reference, which compares the text between spaces exactly: when no word is
    /// exactly `word`, words that equal it without case and surrounding punctuation match, so
    /// `noise` finds `noise.` in "a beep and white noise." and `Rain` finds `rain`.
    public func positions(of word: String) -> [Int] {
        allPositions(of: word).filter { $0 < Self.tokenWindow }
    }

    /// The positions of `word`'s tokens, those past the text encoder's window too.
    private func allPositions(of word: String) -> [Int] {
        var matches = words.filter { $0.text.unicodeScalars.elementsEqual(word.unicodeScalars) }
        let plain = Self.plain(word)
        if matches.isEmpty, !plain.isEmpty { matches = words.filter { Self.plain($0.text) == plain } }
        return matches.flatMap(\.tokenPositions)
    }

    /// `text` lower-cased without leading and trailing punctuation.
    static func plain(_ text: String) -> String { text.lowercased().trimmingCharacters(in: .punctuationCharacters) }

    /// Like ``positions(of:)``, but a word that is not there is an error.
    /// - Throws: ``PromptEditError/unknownWord(_:prompt:tokens:)``; ``PromptEditError/pastTokenWindow(_:)``
    ///   for a word whose tokens all come after the ones the text encoder reads.
    public func requiredPositions(of word: String) throws -> [Int] {
        let found = positions(of: word)
        guard found.isEmpty else { return found }
        guard allPositions(of: word).isEmpty else { throw PromptEditError.pastTokenWindow(word) }
        throw PromptEditError.unknownWord(word, prompt: prompt, tokens: tokenTexts)
    }

    /// `get_equalizer(prompt, words, values)` for one row: 1 everywhere, `factor` at each word's tokens.
    /// - Throws: as ``requiredPositions(of:)``.
    public func equalizer(_ weights: [(word: String, factor: Float)]) throws -> [Float] {
        var row = [Float](repeating: 1, count: Self.keyCount)
        for (word, factor) in weights {
            for position in try requiredPositions(of: word) { row[position] = factor }
        }
        return row
    }
}
