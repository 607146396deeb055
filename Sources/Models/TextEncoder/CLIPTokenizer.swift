import Compute

/// The CLIP tokenizer: a prompt as the byte-level BPE token ids the CLIP text encoder reads.
///
/// Port of transformers 4.30.2 `CLIPTokenizer` (models/clip/tokenization_clip.py) as it runs
/// without ftfy — the tokenizer that diffusers' Stable Diffusion pipelines and Auffusion's
/// prompt2prompt/pipeline_prompt2prompt.py load — and, with ``Mode/fast``, of `CLIPTokenizerFast`
/// (tokenization_clip_fast.py, built by convert_slow_tokenizer.py `CLIPConverter`), which
/// `AutoTokenizer` gives Auffusion's auffusion_pipeline.py `AuffusionPipeline`. The steps:
/// 1. special tokens written in the prompt (`<|endoftext|>`, …) are cut out and kept whole;
/// 2. the rest is cleaned as ``Mode`` says;
/// 3. it is pre-tokenized by CLIP's pattern
///    `'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`: letters in runs, digits one
///    by one, other symbols in runs, whitespace dropped;
/// 4. each piece's UTF-8 bytes go through ``ByteLevelAlphabet`` and ``BytePairEncoding``, and
///    every resulting symbol is looked up in the vocabulary (unknown symbols become the unknown
///    token).
///
/// ``encode(_:padding:)`` then adds BOS and EOS, truncates and pads (docs/reference.md §3.1, §3.4).
///
/// ```swift
/// let tokenizer = try CLIPTokenizer(contentsOf: modelFolder.appending(path: "tokenizer"))
/// let prompt = tokenizer.encode("a photo of a cat")
/// prompt.ids.prefix(8)    // [49406, 320, 1125, 539, 320, 2368, 49407, 49407]; 77 ids in all
/// prompt.wasTruncated     // false
/// ```
public struct CLIPTokenizer: Sendable {
    /// Which reference implementation's text cleanup to reproduce. They differ on punctuation,
    /// apostrophes, accents, control characters and upper-case special tokens
    /// (docs/models/text-encoder.md lists how).
    public enum Mode: Sendable, Equatable {
        /// transformers' slow `CLIPTokenizer` without ftfy: BERT's `BasicTokenizer` drops control
        /// characters, turns whitespace into spaces, spaces out CJK ideographs, lower-cases,
        /// strips accents (NFD, then no non-spacing marks) and splits off every punctuation mark.
        case slow
        /// `CLIPTokenizerFast`: NFC, runs of whitespace to one space, lower case; nothing else.
        case fast
    }

    /// Whether ``encode(_:padding:)`` pads to ``maxLength``.
    public enum Padding: Sendable, Equatable {
        /// Pad with the pad token to ``maxLength`` ids (`padding="max_length"`; SD-style pipelines).
        case maxLength
        /// No padding (AuffusionPipeline's condition-adapter path pads the embeddings instead).
        case none
    }

    /// The text of the four special tokens.
    public struct SpecialTokens: Sendable, Equatable {
        public var begin: String
        public var end: String
        public var unknown: String
        public var padding: String

        public init(begin: String, end: String, unknown: String, padding: String) {
            self.begin = begin
            self.end = end
            self.unknown = unknown
            self.padding = padding
        }

        /// CLIP's: `<|startoftext|>`, and `<|endoftext|>` for end, unknown and padding.
        public static let clip = SpecialTokens(begin: "<|startoftext|>", end: "<|endoftext|>",
                                               unknown: "<|endoftext|>", padding: "<|endoftext|>")
    }

    public let mode: Mode
    /// The longest id sequence ``encode(_:padding:)`` returns, BOS and EOS included (77 for CLIP).
    public let maxLength: Int
    /// Id of the begin-of-text token (49406 for CLIP).
    public let beginID: Int
    /// Id of the end-of-text token (49407 for CLIP).
    public let endID: Int
    /// Id of the padding token (49407 for CLIP).
    public let padID: Int
    /// Id given to symbols that are not in the vocabulary.
    public let unknownID: Int

    let vocabulary: [String: Int]
    let tokensByID: [Int: String]
    private let bpe: BytePairEncoding
    /// The special tokens' texts, longest first, with their ids.
    private let specialTokens: [(text: [Unicode.Scalar], id: Int)]

    /// A tokenizer from its vocabulary and merges.
    /// - Parameters:
    ///   - vocabulary: token → id (`vocab.json`).
    ///   - merges: the merge pairs in rank order (`merges.txt` without its header).
    ///   - specialTokens: the special tokens; each must be in `vocabulary`.
    ///   - maxLength: ``maxLength``, at least 2.
    /// - Throws: ``TextEncoderError/missingSpecialToken(token:path:)`` for a special token that is
    ///   not in the vocabulary, ``TextEncoderError/corrupt(path:reason:)`` for `maxLength < 2`.
    public init(vocabulary: [String: Int], merges: [(String, String)], specialTokens: SpecialTokens = .clip,
                maxLength: Int = 77, mode: Mode = .slow) throws {
        func id(of token: String) throws -> Int {
            guard let id = vocabulary[token] else { throw TextEncoderError.missingSpecialToken(token: token, path: "vocab.json") }
            return id
        }
        guard maxLength >= 2 else {
            throw TextEncoderError.corrupt(path: "tokenizer_config.json", reason: "model_max_length \(maxLength) leaves no room for BOS and EOS")
        }
        self.mode = mode
        self.maxLength = maxLength
        self.vocabulary = vocabulary
        tokensByID = Dictionary(vocabulary.map { ($0.value, $0.key) }, uniquingKeysWith: { first, _ in first })
        bpe = BytePairEncoding(merges: merges)
        beginID = try id(of: specialTokens.begin)
        endID = try id(of: specialTokens.end)
        unknownID = try id(of: specialTokens.unknown)
        padID = try id(of: specialTokens.padding)
        let texts = Set([specialTokens.begin, specialTokens.end, specialTokens.unknown, specialTokens.padding])
        self.specialTokens = try texts.sorted { ($0.unicodeScalars.count, $0) > ($1.unicodeScalars.count, $1) }
            .map { (Array($0.unicodeScalars), try id(of: $0)) }
    }

    /// The longest prompt ``validate(prompt:)`` accepts, in Unicode scalars (the tokenizer keeps
    /// only 75 tokens, and a 10 000-character prompt tokenizes in milliseconds).
    public static let maximumPromptLength = 10_000
    /// The longest word (a run of non-whitespace) ``validate(prompt:)`` accepts, in Unicode
    /// scalars: byte-pair encoding is quadratic in a word's length (32 000 characters took 1.3 s,
    /// a 1 MB word would take hours), and no real word is longer.
    public static let maximumWordLength = 1_000

    /// Checks that tokenizing `prompt` is bounded work, before it is tokenized.
    /// - Throws: ``TextEncoderError/promptTooLong(length:limit:)`` or
    ///   ``TextEncoderError/wordTooLong(word:length:limit:)``.
    public static func validate(prompt: String) throws {
        var length = 0, wordLength = 0, wordStart = prompt.unicodeScalars.startIndex
        for index in prompt.unicodeScalars.indices {
            length += 1
            guard length <= maximumPromptLength else {
                throw TextEncoderError.promptTooLong(length: prompt.unicodeScalars.count, limit: maximumPromptLength)
            }
            if prompt.unicodeScalars[index].properties.isWhitespace {
                wordLength = 0
                continue
            }
            if wordLength == 0 { wordStart = index }
            wordLength += 1
            if wordLength > maximumWordLength {
                let word = String(prompt.unicodeScalars[wordStart...].prefix { !$0.properties.isWhitespace })
                throw TextEncoderError.wordTooLong(word: word.abbreviated(to: 40), length: word.unicodeScalars.count,
                                                   limit: maximumWordLength)
            }
        }
    }

    /// The prompt as `[BOS, tokens…, EOS]`, truncated to ``maxLength`` ids and padded as asked.
    ///
    /// Truncation keeps BOS, the first `maxLength − 2` tokens and EOS, and the result reports how
    /// many tokens were dropped. (AuffusionPipeline tokenizes without truncation, and its text
    /// encoder then fails on prompts of more than 75 tokens; here they are cut like the SD path.)
    /// - Returns: `maxLength` ids with `.maxLength` padding; `length` ids with `.none`.
    public func encode(_ prompt: String, padding: Padding = .maxLength) -> TokenizedPrompt {
        let tokens = tokenIDs(prompt)
        let kept = tokens.prefix(maxLength - 2)
        var ids = [beginID] + kept + [endID]
        let length = ids.count
        if padding == .maxLength { ids += repeatElement(padID, count: maxLength - length) }
        return TokenizedPrompt(ids: ids, length: length, droppedTokenCount: tokens.count - kept.count)
    }

    /// The token ids of `text` without BOS and EOS, never truncated (`tokenizer.encode(text)[1:-1]`).
    public func tokenIDs(_ text: String) -> [Int] {
        var ids: [Int] = []
        switch mode {
        case .slow:
            forEachSegment(of: Array(text.unicodeScalars), ids: &ids) { chunk, ids in
                for word in Self.basicTokenizerWords(chunk) { appendIDs(of: word[...], to: &ids) }
            }
        case .fast:
            forEachSegment(of: Self.fastNormalized(text), ids: &ids) { chunk, ids in appendIDs(of: chunk, to: &ids) }
        }
        return ids
    }

    /// Splits `text` at the special tokens written in it (transformers' added-token trie: at each
    /// position the longest special token that starts there), appends their ids, and hands every
    /// non-empty stretch between them to `body`.
    private func forEachSegment(of text: [Unicode.Scalar], ids: inout [Int],
                                _ body: (ArraySlice<Unicode.Scalar>, inout [Int]) -> Void) {
        var start = 0, index = 0
        while index < text.count {
            guard let special = specialTokens.first(where: { text[index...].starts(with: $0.text) }) else {
                index += 1
                continue
            }
            if start < index { body(text[start..<index], &ids) }
            ids.append(special.id)
            index += special.text.count
            start = index
        }
        if start < text.count { body(text[start...], &ids) }
    }

    /// Pre-tokenizes cleaned text and appends the ids of its BPE symbols.
    private func appendIDs(of text: ArraySlice<Unicode.Scalar>, to ids: inout [Int]) {
        for piece in Self.preTokenize(text) {
            for symbol in bpe.symbols(of: ByteLevelAlphabet.encode(piece)) {
                ids.append(vocabulary[symbol] ?? unknownID)
            }
        }
    }
}
