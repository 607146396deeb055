/// Token-by-token alignment of a source and a refined prompt.
///
/// Port of Auffusion prompt2prompt/ptp_utils.py `global_align`, `get_aligned_sequences` and
/// `get_mapper` (docs/reference.md §8.4): Needleman–Wunsch on the id sequences with BOS and EOS (gap 0, match 1,
/// mismatch −1); ties prefer a gap in the source ("left"), then in the target ("up"), then the
/// diagonal. Each target token gets the source index it aligns with, −1 where it was inserted
/// (α = 0 there, 1 elsewhere); past the target's length the mapper continues `len(target) + k`.
public enum TokenAlignment {
    /// `(mapper, alphas)`, 77 entries each.
    public static func mapper(from source: [Int], to target: [Int]) -> (mapper: [Int], alphas: [Float]) {
        let (n, m) = (source.count, target.count)
        var score = [[Int]](repeating: [Int](repeating: 0, count: m + 1), count: n + 1)
        var trace = score
        for j in stride(from: 1, through: m, by: 1) { trace[0][j] = 1 }
        for i in stride(from: 1, through: n, by: 1) { trace[i][0] = 2 }
        trace[0][0] = 4
        for i in stride(from: 1, through: n, by: 1) {
            for j in stride(from: 1, through: m, by: 1) {
                let left = score[i][j - 1], up = score[i - 1][j]
                let diagonal = score[i - 1][j - 1] + (source[i - 1] == target[j - 1] ? 1 : -1)
                let best = max(left, up, diagonal)
                score[i][j] = best
                trace[i][j] = best == left ? 1 : best == up ? 2 : 3
            }
        }
        var pairs: [Int] = []            // source index per target token, from the end
        var (i, j) = (n, m)
        walk: while i > 0 || j > 0 {
            switch trace[i][j] {
            case 3: i -= 1; j -= 1; pairs.append(i)
            case 1: j -= 1; pairs.append(-1)
            case 2: i -= 1
            default: break walk
            }
        }
        pairs.reverse()
        let size = PromptTokens.keyCount
        var mapper = [Int](repeating: 0, count: size), alphas = [Float](repeating: 1, count: size)
        for (k, index) in pairs.prefix(size).enumerated() {
            mapper[k] = index
            alphas[k] = index == -1 ? 0 : 1
        }
        for k in min(pairs.count, size)..<size { mapper[k] = m + (k - pairs.count) }
        return (mapper, alphas)
    }
}
