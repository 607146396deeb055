import Foundation

/// Byte-pair encoding of one pre-tokenized piece by merge ranks.
///
/// Port of transformers `CLIPTokenizer.bpe` (models/clip/tokenization_clip.py): the piece's
/// characters (byte-level, see ``ByteLevelAlphabet``) are the first symbols, the last one
/// carrying the end-of-word suffix `</w>`; then, while some adjacent pair has a rank, every
/// occurrence of the lowest-ranked pair is merged, left to right. Results are cached; the cache
/// is shared by copies and safe to use from several threads.
///
/// - Complexity: O(n²) in the length of the piece, once per distinct piece.
struct BytePairEncoding: Sendable {
    /// The suffix of the last symbol of every piece.
    static let endOfWord = "</w>"

    private struct SymbolPair: Hashable {
        var first: String
        var second: String
    }

    private let ranks: [SymbolPair: Int]
    private let cache = Cache()

    /// - Parameter merges: the merges in rank order (first = merged first). A pair listed twice
    ///   keeps its later rank, as Python's `dict(zip(merges, range(…)))` does.
    init(merges: [(String, String)]) {
        var ranks: [SymbolPair: Int] = [:]
        for (rank, merge) in merges.enumerated() { ranks[SymbolPair(first: merge.0, second: merge.1)] = rank }
        self.ranks = ranks
    }

    /// The symbols of `piece` after merging; `piece` is a non-empty byte-level string.
    func symbols(of piece: String) -> [String] {
        if let cached = cache[piece] { return cached }
        var word = piece.unicodeScalars.map { String($0) }
        guard !word.isEmpty else { return [] }
        word[word.count - 1] += Self.endOfWord
        while word.count > 1, let best = lowestRankedPair(in: word) {
            var merged: [String] = []
            merged.reserveCapacity(word.count - 1)
            var index = 0
            while index < word.count {
                if index + 1 < word.count, word[index] == best.first, word[index + 1] == best.second {
                    merged.append(best.first + best.second)
                    index += 2
                } else {
                    merged.append(word[index])
                    index += 1
                }
            }
            word = merged
        }
        cache[piece] = word
        return word
    }

    private func lowestRankedPair(in word: [String]) -> SymbolPair? {
        var best: SymbolPair?
        var bestRank = Int.max
        for index in 0..<(word.count - 1) {
            let pair = SymbolPair(first: word[index], second: word[index + 1])
            if let rank = ranks[pair], rank < bestRank {
                best = pair
                bestRank = rank
            }
        }
        return best
    }

    /// Pieces already encoded, behind a lock. It is emptied when it reaches `capacity` entries, so
    /// a long batch job does not grow it without bound (the Python cache never shrinks).
    private final class Cache: @unchecked Sendable {
        // @unchecked: every access to `entries` holds `lock`.
        private let lock = NSLock()
        private var entries: [String: [String]] = [:]
        private let capacity = 100_000

        subscript(piece: String) -> [String]? {
            get { lock.withLock { entries[piece] } }
            set {
                lock.withLock {
                    if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
                    entries[piece] = newValue
                }
            }
        }
    }
}
