import Foundation
import Models
import TestSupport

/// The tokenizer fixtures in `Tests/Fixtures/clip/` (scripts/reference/clip_fixtures.py).
enum CLIPFixtures {
    /// `captions.json`: transformers 4.30.2's ids for every generated caption.
    struct Captions: Decodable {
        struct Known: Decodable { let text: String; let ids: [Int] }
        struct Caption: Decodable {
            let family: String
            let text: String
            /// `tokenizer(text).input_ids`: BOS, every token, EOS; never truncated.
            let ids: [Int]
            /// `padding="max_length", truncation=True`; stored only when `ids` has more than 77
            /// entries, otherwise it is `ids` followed by 49407s (the script checks this).
            let padded: [Int]?
            /// `CLIPTokenizerFast(text).input_ids`, stored only when it differs from `ids`.
            let fast: [Int]?

            var expectedPadded: [Int] { padded ?? ids + Array(repeating: 49407, count: 77 - ids.count) }
            var expectedFast: [Int] { fast ?? ids }
        }
        let known: [Known]
        let captions: [Caption]
    }

    /// `word_indices.json`: prompt2prompt's `get_word_inds` for every word of some captions.
    struct WordCase: Decodable {
        let text: String
        let words: [[Int]]
        /// Whether the reference raises `IndexError` on this prompt.
        let raises: Bool
        let query: String
        let queryPositions: [Int]
        let decoded: String

        enum CodingKeys: String, CodingKey {
            case text, words, raises, query, decoded
            case queryPositions = "query_positions"
        }
    }

    static let tokenizerFolder = Fixtures.url("clip/tokenizer")

    private static let slowTokenizer = Result { try CLIPTokenizer(contentsOf: tokenizerFolder) }
    private static let fastTokenizer = Result { try CLIPTokenizer(contentsOf: tokenizerFolder, mode: .fast) }

    /// The real CLIP tokenizer, loaded once.
    static func tokenizer(_ mode: CLIPTokenizer.Mode = .slow) throws -> CLIPTokenizer {
        try (mode == .slow ? slowTokenizer : fastTokenizer).get()
    }

    static func captions() throws -> Captions { try Fixtures.json(Captions.self, "clip/captions.json") }
}

extension String {
    /// The string as a Swift literal, so control characters and odd spaces show in messages.
    var quoted: String { String(reflecting: self) }
}
