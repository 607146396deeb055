/// CLIP's pre-tokenizer: where cleaned text is cut into the pieces that BPE encodes one by one.
extension CLIPTokenizer {
    /// The contractions CLIP's pattern matches before anything else at an apostrophe.
    private static let contractions: [[Unicode.Scalar]] = ["s", "t", "re", "ve", "m", "ll", "d"].map { Array($0.unicodeScalars) }

    /// The matches of `'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+` in `text`, left to
    /// right, as `re.findall` returns them (transformers tokenization_clip.py `CLIPTokenizer.pat`;
    /// the fast tokenizer's `Split` pre-tokenizer uses the same pattern). At each position the
    /// first alternative that matches wins: a contraction, else a run of letters, else one number
    /// character, else a run of characters that are neither whitespace, letters nor numbers.
    /// Whitespace (Unicode White_Space) is skipped.
    ///
    /// The slow tokenizer compiles the pattern case-insensitively. Its cleanup has already
    /// lower-cased the text and split every apostrophe off on its own, so the flag changes
    /// nothing there, and the fast tokenizer's pattern has no flag.
    static func preTokenize(_ text: ArraySlice<Unicode.Scalar>) -> [ArraySlice<Unicode.Scalar>] {
        var pieces: [ArraySlice<Unicode.Scalar>] = []
        var index = text.startIndex
        while index < text.endIndex {
            let scalar = text[index]
            var end = index + 1
            if scalar.properties.isWhitespace {
                index = end
                continue
            }
            if scalar == "'", let contraction = contractions.first(where: { text[end...].starts(with: $0) }) {
                end += contraction.count
            } else if UnicodeClass.isLetter(scalar) {
                while end < text.endIndex, UnicodeClass.isLetter(text[end]) { end += 1 }
            } else if !UnicodeClass.isNumber(scalar) {
                while end < text.endIndex, isSymbol(text[end]) { end += 1 }
            }
            pieces.append(text[index..<end])
            index = end
        }
        return pieces
    }

    private static func isSymbol(_ scalar: Unicode.Scalar) -> Bool {
        !scalar.properties.isWhitespace && !UnicodeClass.isLetter(scalar) && !UnicodeClass.isNumber(scalar)
    }
}
