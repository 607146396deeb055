import Foundation
import Models
import Testing
import TestSupport

/// The tokenizer against transformers 4.30.2 on the real CLIP vocabulary, caption by caption.
/// Every comparison is exact: ids are integers, and one differing id fails the caption.
@Suite("CLIP tokenizer against transformers (scripts/reference/clip_fixtures.py)")
struct CLIPTokenizerParityTests {
    /// Lists the captions for which `actual` differs from `expected`, at most ten in the message.
    private func expectAll(_ captions: [CLIPFixtures.Captions.Caption], _ what: String,
                           expected: (CLIPFixtures.Captions.Caption) -> [Int],
                           actual: (CLIPFixtures.Captions.Caption) -> [Int]) {
        var mismatches: [String] = []
        for caption in captions {
            let (want, got) = (expected(caption), actual(caption))
            if want != got { mismatches.append("[\(caption.family)] \(caption.text.quoted): expected \(want), got \(got)") }
        }
        #expect(mismatches.isEmpty, """
            \(what): \(mismatches.count) of \(captions.count) captions differ
            \(mismatches.prefix(10).joined(separator: "\n"))
            """)
    }

    @Test("known ids of the real vocabulary: 'a photo of a cat'")
    func knownIDs() throws {
        let tokenizer = try CLIPFixtures.tokenizer()
        for known in try CLIPFixtures.captions().known {
            #expect(Array(tokenizer.encode(known.text, padding: .none).ids) == known.ids)
        }
        #expect(tokenizer.beginID == 49406 && tokenizer.endID == 49407 && tokenizer.padID == 49407)
        #expect(tokenizer.maxLength == 77)
    }

    @Test("every caption's ids equal the slow CLIPTokenizer's (no padding, no truncation)")
    func unpaddedIDs() throws {
        let tokenizer = try CLIPFixtures.tokenizer()
        let captions = try CLIPFixtures.captions().captions
        #expect(captions.count >= 2000)
        expectAll(captions, "tokenizer(text).input_ids", expected: \.ids) {
            [tokenizer.beginID] + tokenizer.tokenIDs($0.text) + [tokenizer.endID]
        }
    }

    @Test("padding='max_length', max_length=77, truncation=True gives transformers' 77 ids and reports truncation")
    func paddedIDs() throws {
        let tokenizer = try CLIPFixtures.tokenizer()
        let captions = try CLIPFixtures.captions().captions
        expectAll(captions, "padded ids", expected: \.expectedPadded) { tokenizer.encode($0.text).ids }
        var wrongReports: [String] = []
        for caption in captions {
            let prompt = tokenizer.encode(caption.text)
            let dropped = max(0, caption.ids.count - 77)
            if prompt.droppedTokenCount != dropped || prompt.wasTruncated != (dropped > 0)
                || prompt.length != min(77, caption.ids.count) {
                wrongReports.append("\(caption.text.quoted): dropped \(prompt.droppedTokenCount), expected \(dropped)")
            }
        }
        #expect(wrongReports.isEmpty, "\(wrongReports.prefix(10).joined(separator: "\n"))")
        #expect(captions.contains { $0.ids.count > 77 } && captions.contains { $0.ids.count == 77 })
    }

    @Test("without padding: BOS, tokens, EOS, cut to 77 ids like the padded form")
    func noPaddingMode() throws {
        let tokenizer = try CLIPFixtures.tokenizer()
        expectAll(try CLIPFixtures.captions().captions, "unpadded encode", expected: {
            $0.ids.count <= 77 ? $0.ids : Array($0.expectedPadded)
        }) { tokenizer.encode($0.text, padding: .none).ids }
    }

    @Test("fast mode equals CLIPTokenizerFast on every caption, including where it differs from the slow tokenizer")
    func fastMode() throws {
        let tokenizer = try CLIPFixtures.tokenizer(.fast)
        let captions = try CLIPFixtures.captions().captions
        #expect(captions.filter { $0.fast != nil }.count > 100, "the fixtures should exercise the differences")
        expectAll(captions, "CLIPTokenizerFast(text).input_ids", expected: \.expectedFast) {
            [tokenizer.beginID] + tokenizer.tokenIDs($0.text) + [tokenizer.endID]
        }
    }

    @Test("word → token positions equal prompt2prompt's get_word_inds; decode equals tokenizer.decode")
    func wordIndices() throws {
        let tokenizer = try CLIPFixtures.tokenizer()
        let cases = try Fixtures.json([CLIPFixtures.WordCase].self, "clip/word_indices.json")
        #expect(cases.count >= 500 && cases.contains(where: \.raises))
        var mismatches: [String] = []
        for wordCase in cases {
            let words = tokenizer.words(in: wordCase.text)
            let positions = words.map(\.tokenPositions)
            if positions != wordCase.words {
                mismatches.append("\(wordCase.text.quoted): expected \(wordCase.words), got \(positions)")
            }
            let split = wordCase.text.unicodeScalars.split(separator: " ", omittingEmptySubsequences: false)  // Python's split(" ")
            if words.map(\.text) != split.map(String.init) {
                mismatches.append("\(wordCase.text.quoted): words \(words.map(\.text))")
            }
            let query = tokenizer.tokenPositions(of: wordCase.query, in: wordCase.text)
            if query != wordCase.queryPositions {
                mismatches.append("\(wordCase.text.quoted) / \(wordCase.query.quoted): expected \(wordCase.queryPositions), got \(query)")
            }
            let ids = [tokenizer.beginID] + tokenizer.tokenIDs(wordCase.text) + [tokenizer.endID]
            if tokenizer.decode(ids) != wordCase.decoded {
                mismatches.append("decode \(wordCase.text.quoted): expected \(wordCase.decoded.quoted), got \(tokenizer.decode(ids).quoted)")
            }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) mismatches\n\(mismatches.prefix(10).joined(separator: "\n"))")
    }
}
