import Foundation

/// Text cleanup before pre-tokenization, one function per ``CLIPTokenizer/Mode``.
extension CLIPTokenizer {
    /// The words BERT's `BasicTokenizer(do_lower_case=True)` leaves, which the slow CLIP
    /// tokenizer joins with spaces when ftfy is missing.
    ///
    /// Port of transformers 4.30.2 `BasicTokenizer.tokenize` (models/clip/tokenization_clip.py,
    /// copied there from models/bert): `_clean_text` drops NUL, U+FFFD and control characters
    /// (general category C*, except tab, newline and carriage return) and turns whitespace (those
    /// three, space and Zs) into spaces; `_tokenize_chinese_chars` puts spaces around CJK
    /// ideographs; the text is split at Python whitespace (`str.split()`); each word is
    /// lower-cased as Python's `str.lower` does (full case mapping, final sigma), has its accents
    /// stripped (`strip_accents` is unset, so lower-casing implies it: NFD, then every
    /// non-spacing mark Mn removed) and is split around every punctuation character
    /// (`_run_split_on_punc`: ASCII symbols and general category P*).
    /// - Returns: non-empty words without whitespace, in order.
    static func basicTokenizerWords(_ text: ArraySlice<Unicode.Scalar>) -> [[Unicode.Scalar]] {
        var cleaned: [Unicode.Scalar] = []
        cleaned.reserveCapacity(text.count)
        for scalar in text {
            if scalar.value == 0 || scalar.value == 0xFFFD || UnicodeClass.isBERTControl(scalar) { continue }
            if UnicodeClass.isBERTWhitespace(scalar) {
                cleaned.append(" ")
            } else if UnicodeClass.isCJKIdeograph(scalar) {
                cleaned += [" ", scalar, " "]
            } else {
                cleaned.append(scalar)
            }
        }
        var words: [[Unicode.Scalar]] = []
        for word in cleaned.split(whereSeparator: UnicodeClass.isPythonWhitespace) {
            let folded = strippingAccents(pythonLowercased(word))
            var current: [Unicode.Scalar] = []
            for scalar in folded {
                if UnicodeClass.isBERTPunctuation(scalar) {
                    if !current.isEmpty { words.append(current) }
                    words.append([scalar])
                    current = []
                } else {
                    current.append(scalar)
                }
            }
            if !current.isEmpty { words.append(current) }
        }
        return words
    }

    /// `CLIPTokenizerFast`'s normalizer (convert_slow_tokenizer.py `CLIPConverter`): NFC, every
    /// run of whitespace (Unicode White_Space) to one space, then each character lower-cased on
    /// its own (full case mapping, no final-sigma rule).
    static func fastNormalized(_ text: String) -> [Unicode.Scalar] {
        var result: [Unicode.Scalar] = []
        var inWhitespace = false
        for scalar in text.precomposedStringWithCanonicalMapping.unicodeScalars {
            if scalar.properties.isWhitespace {
                if !inWhitespace { result.append(" ") }
                inWhitespace = true
            } else {
                result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
                inWhitespace = false
            }
        }
        return result
    }

    /// Python's `str.lower()`: each character's full lower-case mapping, except that capital
    /// sigma becomes final sigma ς when a cased letter precedes it and none follows (skipping
    /// case-ignorable characters both ways; Unicode SpecialCasing's Final_Sigma condition).
    static func pythonLowercased(_ word: ArraySlice<Unicode.Scalar>) -> [Unicode.Scalar] {
        let scalars = Array(word)
        var result: [Unicode.Scalar] = []
        result.reserveCapacity(scalars.count)
        for (index, scalar) in scalars.enumerated() {
            if scalar == "\u{03A3}" {
                result.append(isFinalSigma(at: index, in: scalars) ? "\u{03C2}" : "\u{03C3}")
            } else {
                result.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return result
    }

    private static func isFinalSigma(at index: Int, in scalars: [Unicode.Scalar]) -> Bool {
        let before = scalars[..<index].last { !$0.properties.isCaseIgnorable }
        guard let before, before.properties.isCased else { return false }
        let after = scalars[(index + 1)...].first { !$0.properties.isCaseIgnorable }
        return !(after?.properties.isCased ?? false)
    }

    /// BERT's `_run_strip_accents`: canonical decomposition (NFD), then every non-spacing mark
    /// (general category Mn) removed.
    static func strippingAccents(_ scalars: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let text = String(String.UnicodeScalarView(scalars))
        return text.decomposedStringWithCanonicalMapping.unicodeScalars.filter {
            $0.properties.generalCategory != .nonspacingMark
        }
    }
}
