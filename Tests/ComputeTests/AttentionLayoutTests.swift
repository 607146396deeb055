import Compute
import Testing

/// `Attention.scaledDotProduct(…, heads:)` reads each head's rows in place in `[B, N, H·D]`
/// tokens, as the projections write them; it must give the heads-major form's bits, with the heads
/// split before and merged after.
@Suite("attention over heads side by side in each token")
struct AttentionLayoutTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let items: Int, heads: Int, queries: Int, keys: Int, depth: Int, valueDepth: Int, causal: Bool
        var testDescription: String {
            "\(items)×\(heads) heads, \(queries) queries, \(keys) keys, D \(depth), Dv \(valueDepth)\(causal ? ", causal" : "")"
        }
    }

    /// Several query blocks (256 queries each), one and several key blocks (1024 keys each: the
    /// online softmax), value widths unlike the keys', causal masks.
    static let cases = [
        Case(items: 2, heads: 3, queries: 300, keys: 77, depth: 8, valueDepth: 8, causal: false),
        Case(items: 1, heads: 2, queries: 40, keys: 1100, depth: 5, valueDepth: 7, causal: false),
        Case(items: 2, heads: 4, queries: 520, keys: 520, depth: 6, valueDepth: 6, causal: true),
        Case(items: 1, heads: 1, queries: 1030, keys: 1030, depth: 4, valueDepth: 3, causal: true),
    ]

    @Test("the result of split heads, merged, to the bit", arguments: cases)
    func sameBits(_ c: Case) {
        var random = TorchRandomSource(seed: 21)
        let query = random.normal(shape: [c.items, c.queries, c.heads * c.depth])
        let key = random.normal(shape: [c.items, c.keys, c.heads * c.depth])
        let value = random.normal(shape: [c.items, c.keys, c.heads * c.valueDepth])
        func split(_ x: Tensor, _ width: Int) -> Tensor {
            x.reshaped([x.shape[0], x.shape[1], c.heads, width]).permuted([0, 2, 1, 3])
        }
        let scale: Float = 0.37
        let headsMajor = Attention.scaledDotProduct(query: split(query, c.depth), key: split(key, c.depth),
                                                    value: split(value, c.valueDepth), scale: scale, causal: c.causal)
        let merged = headsMajor.permuted([0, 2, 1, 3]).reshaped([c.items, c.queries, c.heads * c.valueDepth])
        let inPlace = Attention.scaledDotProduct(query: query, key: key, value: value, heads: c.heads, scale: scale, causal: c.causal)
        #expect(inPlace.shape == merged.shape)
        #expect(inPlace.scalars == merged.scalars)
        #expect(inPlace.scalars.allSatisfy { $0.isFinite })
    }
}
