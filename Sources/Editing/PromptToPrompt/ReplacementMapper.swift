import Compute

/// The word-swap mapper between a source and a target prompt.
///
/// Port of Auffusion prompt2prompt/ptp_utils.py `get_replacement_mapper_` (docs/reference.md §8.4): the prompts
/// must have as many space-separated words; walking source token `i` and target token `j`, a
/// changed word maps its source tokens to its target tokens (one to one when the counts agree,
/// else every target token takes `1/len(target)` of every source token), and every other token
/// maps `M[i, j] = 1`, so a word swapped for one with more or fewer tokens ("barking" →
/// "me owing") shifts the rest of the prompt with it. **Deviation:** after the last changed word
/// the reference writes the diagonal `M[j, j]` instead, which is the same when the token counts
/// agree and otherwise pairs each later source token with an unrelated one (`docs/editing.md`).
/// Tokens pushed past the 77th by a longer target keep no mapping, as in the reference.
public enum ReplacementMapper {
    /// `[77, 77]`.
    /// - Throws: ``PromptEditError/wordCountMismatch(source:target:)``.
    public static func mapper(from source: PromptTokens, to target: PromptTokens) throws -> Tensor {
        guard source.words.count == target.words.count else {
            throw PromptEditError.wordCountMismatch(source: source.prompt, target: target.prompt)
        }
        let changed = source.words.indices.filter { !source.words[$0].text.unicodeScalars.elementsEqual(target.words[$0].text.unicodeScalars) }
        let from = changed.map { source.words[$0].tokenPositions }, to = changed.map { target.words[$0].tokenPositions }
        guard from.allSatisfy({ !$0.isEmpty }), to.allSatisfy({ !$0.isEmpty }) else {
            throw PromptEditError.invalid("a swapped word has no tokens (two spaces in a row?)")
        }
        let size = PromptTokens.keyCount
        var m = Tensor.zeros([size, size])
        var (i, j, next) = (0, 0, 0)
        while i < size && j < size {
            if next < from.count && from[next][0] == i {
                let (sources, targets) = (from[next], to[next])
                if sources.count == targets.count {
                    for (s, t) in zip(sources, targets) where s < size && t < size { m[s, t] = 1 }
                } else {
                    for s in sources where s < size {
                        for t in targets where t < size { m[s, t] = 1 / Float(targets.count) }
                    }
                }
                i += from[next].count
                j += to[next].count
                next += 1
            } else {
                m[i, j] = 1
                i += 1
                j += 1
            }
        }
        return m
    }
}
