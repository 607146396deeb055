/// Decoding, and the map from the words of a prompt to its token positions that prompt-to-prompt
/// edits use.
extension CLIPTokenizer {
    /// The text of `ids`, as transformers' slow `tokenizer.decode(ids)` gives it.
    ///
    /// Port of `CLIPTokenizer.convert_tokens_to_string` (models/clip/tokenization_clip.py) and
    /// `PreTrainedTokenizerBase.clean_up_tokenization` (tokenization_utils_base.py, on by default
    /// in 4.30.2): the tokens are joined, mapped back to bytes, decoded as UTF-8 with U+FFFD for
    /// invalid sequences, `</w>` becomes a space, the ends are stripped of whitespace, and the
    /// spaces before `.`, `?`, `!`, `,`, `'m`, `'s`, `'ve`, `'re`, `n't` and around a lone `'` are
    /// removed. Special tokens are kept; ids outside the vocabulary are skipped.
    public func decode(_ ids: [Int]) -> String {
        let joined = ids.compactMap { tokensByID[$0] }.joined()
        let text = String(decoding: ByteLevelAlphabet.decode(joined), as: UTF8.self)
        var scalars = Self.replacing(BytePairEncoding.endOfWord, with: " ", in: Array(text.unicodeScalars))
        while let first = scalars.first, UnicodeClass.isPythonWhitespace(first) { scalars.removeFirst() }
        while let last = scalars.last, UnicodeClass.isPythonWhitespace(last) { scalars.removeLast() }
        for (spaced, tight) in [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                                (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")] {
            scalars = Self.replacing(spaced, with: tight, in: scalars)
        }
        return String(String.UnicodeScalarView(scalars))
    }

    /// Python's `str.replace`: every occurrence of `target`, left to right, without overlaps.
    /// Works on Unicode scalars, not Swift characters, so a combining mark after `>` does not
    /// hide the `</w>` before it.
    private static func replacing(_ target: String, with replacement: String, in text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let pattern = Array(target.unicodeScalars)
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(text.count)
        var index = 0
        while index < text.count {
            if text[index...].starts(with: pattern) {
                result.append(contentsOf: replacement.unicodeScalars)
                index += pattern.count
            } else {
                result.append(text[index])
                index += 1
            }
        }
        return result
    }

    /// Every word of `prompt`, split at each space, with the token positions it occupies.
    ///
    /// Port of Auffusion prompt2prompt/ptp_utils.py `get_word_inds`, for all words at once:
    /// the prompt's tokens (``tokenIDs(_:)``, not truncated) are decoded one at a time and
    /// stripped of `#`; their lengths in characters (Unicode scalars, as Python counts) are
    /// added up, and token `i` (position `i + 1`, after BOS) belongs to the current word until
    /// the sum reaches that word's length in the prompt; then the next word starts.
    ///
    /// The reference splits at U+0020 only, so consecutive spaces give empty words (which take
    /// the next token), and tabs or newlines do not separate words; its cleanup may change a
    /// word's length (dropped control characters, stripped accents, one token per byte of a
    /// rare character). All of that is reproduced. Where the reference runs out of words while
    /// tokens remain it raises `IndexError`; here those tokens belong to no word.
    ///
    /// - Returns: one entry per word, in order; positions are ascending.
    public func words(in prompt: String) -> [PromptWord] {
        let words = prompt.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)
        var positions = [[Int]](repeating: [], count: words.count)
        var length = 0, word = 0
        for (index, id) in tokenIDs(prompt).enumerated() {
            guard word < words.count else { break }
            length += decodedLength(of: id)
            positions[word].append(index + 1)
            if length >= words[word].count {
                word += 1
                length = 0
            }
        }
        return zip(words, positions).map { PromptWord(text: String($0.0), tokenPositions: $0.1) }
    }

    /// The length of one decoded token without the `#` at its ends (`decode([id]).strip("#")`).
    private func decodedLength(of id: Int) -> Int {
        let scalars = Array(decode([id]).unicodeScalars)
        let leading = scalars.prefix { $0 == "#" }.count
        guard leading < scalars.count else { return 0 }
        return scalars.count - leading - scalars.reversed().prefix { $0 == "#" }.count
    }

    /// The positions of every occurrence of `word` in `prompt` (`get_word_inds(prompt, word)`):
    /// the words of ``words(in:)`` with exactly its characters (Python compares code points, so
    /// "é" and "e\u{301}" differ), their positions in order.
    public func tokenPositions(of word: String, in prompt: String) -> [Int] {
        words(in: prompt).filter { $0.text.unicodeScalars.elementsEqual(word.unicodeScalars) }.flatMap(\.tokenPositions)
    }
}
