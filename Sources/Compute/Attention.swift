/// Scaled dot-product attention, `softmax(scale · Q Kᵀ) · V`, as
/// `torch.nn.functional.scaled_dot_product_attention` (with `scale` explicit, as diffusers'
/// `Attention` computes it).
///
/// The fast path never holds more than a `256 × 1024` block of scores per thread: queries are
/// taken in blocks, keys in blocks, and the softmax is accumulated online (Dao et al. 2022,
/// FlashAttention, Algorithm 1): for each key block, `m′ = max(m, rowmax S)`,
/// `ℓ ← ℓ·e^{m−m′} + Σ e^{S−m′}`, `O ← O·e^{m−m′} + e^{S−m′} V`; finally `O / ℓ`. At the
/// top U-Net level of a 10 s clip (4096 tokens) the full score matrix would be 64 MB per head.
/// When prompt-to-prompt needs the probabilities themselves, ``probabilities(query:key:scale:causal:)``
/// and ``weightedSum(probabilities:value:)`` split the computation. When all keys fit one key
/// block (cross-attention's 77, and every layer up to 1024 tokens) the fast path performs the very
/// same operations as the split form, so the two agree bit for bit.
public enum Attention {
    static let queryBlock = 256
    static let keyBlock = 1024

    /// The attention output.
    /// - Parameters:
    ///   - query: `[B, H, Nq, D]`.
    ///   - key: `[B, H, Nk, D]`.
    ///   - value: `[B, H, Nk, Dv]`.
    ///   - causal: mask keys after the query's position (CLIP's text encoder).
    /// - Returns: `[B, H, Nq, Dv]`.
    public static func scaledDotProduct(query: Tensor, key: Tensor, value: Tensor, scale: Float,
                                        causal: Bool = false) -> Tensor {
        let shape = validate(query, key, value)
        let (heads, queries, keys, depth, valueDepth) = shape
        var output = [Float](repeating: 0, count: heads * queries * valueDepth)
        let blocksPerHead = (queries + queryBlock - 1) / queryBlock
        query.scalars.withUnsafeBufferPointer { q in
            key.scalars.withUnsafeBufferPointer { k in
                value.scalars.withUnsafeBufferPointer { v in
                    output.withUnsafeMutableBufferPointer { o in
                        ComputeThreads.parallelFor(heads * blocksPerHead) { task in
                            let head = task / blocksPerHead, block = task % blocksPerHead
                            let first = block * queryBlock, rows = Swift.min(queryBlock, queries - first)
                            OnlineSoftmaxBlock(rows: rows, firstQuery: first, keys: keys, depth: depth,
                                               valueDepth: valueDepth, scale: scale, causal: causal).run(
                                query: UnsafeBufferPointer(rebasing: q[(head * queries + first) * depth..<(head * queries + first + rows) * depth]),
                                key: UnsafeBufferPointer(rebasing: k[head * keys * depth..<(head + 1) * keys * depth]),
                                value: UnsafeBufferPointer(rebasing: v[head * keys * valueDepth..<(head + 1) * keys * valueDepth]),
                                output: UnsafeMutableBufferPointer(rebasing: o[(head * queries + first) * valueDepth..<(head * queries + first + rows) * valueDepth]))
                        }
                    }
                }
            }
        }
        return Tensor(shape: Array(query.shape.dropLast()) + [valueDepth], scalars: output)
    }

    /// The attention probabilities `softmax(scale · Q Kᵀ)`, `[B, H, Nq, Nk]`.
    public static func probabilities(query: Tensor, key: Tensor, scale: Float, causal: Bool = false) -> Tensor {
        precondition(query.rank == 4 && key.rank == 4 && query.shape[0...1] == key.shape[0...1] && query.shape[3] == key.shape[3],
                     "attention: query \(query.shape) and key \(key.shape) do not match")
        let heads = query.shape[0] * query.shape[1], queries = query.shape[2], keys = key.shape[2], depth = query.shape[3]
        var scores = [Float](repeating: 0, count: heads * queries * keys)
        query.scalars.withUnsafeBufferPointer { q in
            key.scalars.withUnsafeBufferPointer { k in
                scores.withUnsafeMutableBufferPointer { s in
                    ComputeThreads.parallelFor(heads) { head in
                        let rows = UnsafeMutableBufferPointer(rebasing: s[head * queries * keys..<(head + 1) * queries * keys])
                        // [Nq, D] · [Nk, D]ᵀ -> [Nq, Nk]
                        BLAS.sgemm(transposeB: true, m: queries, n: keys, k: depth, alpha: scale,
                                   a: UnsafeBufferPointer(rebasing: q[head * queries * depth..<(head + 1) * queries * depth]), lda: depth,
                                   b: UnsafeBufferPointer(rebasing: k[head * keys * depth..<(head + 1) * keys * depth]), ldb: depth,
                                   c: rows, ldc: keys)
                        guard let base = rows.baseAddress else { return }
                        for row in 0..<queries {
                            if causal { maskFuture(base + row * keys, query: row, keys: keys) }
                            Softmax.normalizeRow(base + row * keys, count: keys)
                        }
                    }
                }
            }
        }
        return Tensor(shape: [query.shape[0], query.shape[1], queries, keys], scalars: scores)
    }

    /// `P · V` for probabilities `[B, H, Nq, Nk]` and values `[B, H, Nk, Dv]`; returns `[B, H, Nq, Dv]`.
    /// Computed as `(Vᵀ · Pᵀ)ᵀ`, the fast path's orientation (`OnlineSoftmaxBlock`), so that the
    /// two agree to the bit with any matrix-product kernel.
    public static func weightedSum(probabilities: Tensor, value: Tensor) -> Tensor {
        precondition(probabilities.rank == 4 && value.rank == 4 && probabilities.shape[0...1] == value.shape[0...1]
                     && probabilities.shape[3] == value.shape[2],
                     "attention: probabilities \(probabilities.shape) and value \(value.shape) do not match")
        let heads = value.shape[0] * value.shape[1], queries = probabilities.shape[2]
        let keys = value.shape[2], valueDepth = value.shape[3]
        var output = [Float](repeating: 0, count: heads * queries * valueDepth)
        probabilities.scalars.withUnsafeBufferPointer { p in
            value.scalars.withUnsafeBufferPointer { v in
                output.withUnsafeMutableBufferPointer { o in
                    ComputeThreads.parallelFor(heads) { head in
                        let transposed = [Float](unsafeUninitializedCapacity: valueDepth * queries) { t, initialized in
                            // [Nk, Dv]ᵀ · [Nq, Nk]ᵀ -> [Dv, Nq]
                            BLAS.sgemm(transposeA: true, transposeB: true, m: valueDepth, n: queries, k: keys,
                                       a: UnsafeBufferPointer(rebasing: v[head * keys * valueDepth..<(head + 1) * keys * valueDepth]),
                                       lda: valueDepth,
                                       b: UnsafeBufferPointer(rebasing: p[head * queries * keys..<(head + 1) * queries * keys]), ldb: keys,
                                       c: t, ldc: queries)
                            initialized = valueDepth * queries
                        }
                        transposed.withUnsafeBufferPointer { t in
                            for query in 0..<queries {
                                for d in 0..<valueDepth { o[(head * queries + query) * valueDepth + d] = t[d * queries + query] }
                            }
                        }
                    }
                }
            }
        }
        return Tensor(shape: [value.shape[0], value.shape[1], queries, valueDepth], scalars: output)
    }

    /// Sets the scores of keys after position `query` to −∞ (causal masking).
    static func maskFuture(_ row: UnsafeMutablePointer<Float>, query: Int, keys: Int) {
        var column = query + 1
        while column < keys {
            row[column] = -.infinity
            column += 1
        }
    }

    /// Checks the shapes and returns (B·H, Nq, Nk, D, Dv).
    private static func validate(_ query: Tensor, _ key: Tensor, _ value: Tensor) -> (Int, Int, Int, Int, Int) {
        precondition(query.rank == 4 && key.rank == 4 && value.rank == 4, "attention: expected [B, H, N, D] tensors")
        precondition(query.shape[0...1] == key.shape[0...1] && key.shape[0...2] == value.shape[0...2]
                     && query.shape[3] == key.shape[3],
                     "attention: query \(query.shape), key \(key.shape), value \(value.shape) do not match")
        return (query.shape[0] * query.shape[1], query.shape[2], key.shape[2], query.shape[3], value.shape[3])
    }
}

/// One query block of the online-softmax attention, with its scratch memory.
///
/// The products with the values run transposed, `Oᵀ = Vᵀ · Pᵀ` (`[Dv, rows]`), and `O` is read
/// out of `Oᵀ` at the end: in `P · V` a head width of 40 fills 40 of the 64 columns of the GEMM
/// kernels' 32-wide tiles, while `rows` (256) fills them whole and 40 fills 40 of 48 rows. Every
/// element is summed over the keys in the same order either way, so the result is unchanged to
/// the bit, and still equals ``Attention/weightedSum(probabilities:value:)``'s.
private struct OnlineSoftmaxBlock {
    let rows: Int, firstQuery: Int, keys: Int, depth: Int, valueDepth: Int
    let scale: Float, causal: Bool

    func run(query: UnsafeBufferPointer<Float>, key: UnsafeBufferPointer<Float>, value: UnsafeBufferPointer<Float>,
             output: UnsafeMutableBufferPointer<Float>) {
        let width = Swift.min(Attention.keyBlock, keys), online = keys > width
        // Every score and every element of Oᵀ is written by a product before it is read: no zero fill.
        var scores = [Float](unsafeUninitializedCapacity: rows * width) { _, initialized in initialized = rows * width }
        var transposed = [Float](unsafeUninitializedCapacity: valueDepth * rows) { _, initialized in initialized = valueDepth * rows }
        var runningMax = [Float](repeating: -.infinity, count: rows)
        var runningSum = [Float](repeating: 0, count: rows)
        var correction = [Float](repeating: 1, count: rows)
        scores.withUnsafeMutableBufferPointer { s in
            transposed.withUnsafeMutableBufferPointer { t in
                guard let scoreBase = s.baseAddress else { return }
                var start = 0
                while start < keys {
                    let columns = Swift.min(width, keys - start)
                    // [rows, D] · [columns, D]ᵀ -> [rows, columns]
                    BLAS.sgemm(transposeB: true, m: rows, n: columns, k: depth, alpha: scale, a: query, lda: depth,
                               b: UnsafeBufferPointer(rebasing: key[start * depth..<(start + columns) * depth]), ldb: depth,
                               c: s, ldc: columns)
                    for row in 0..<rows {
                        let scoresRow = scoreBase + row * columns
                        if causal {  // this block's column c is key start + c
                            Attention.maskFuture(scoresRow, query: Swift.max(-1, firstQuery + row - start), keys: columns)
                        }
                        guard online else {  // all keys in one block: the plain softmax, as `probabilities`
                            Softmax.normalizeRow(scoresRow, count: columns)
                            continue
                        }
                        let newMax = Swift.max(runningMax[row], VectorMath.maximum(scoresRow, count: columns))
                        if newMax == -.infinity {  // every key so far is masked for this row
                            for column in 0..<columns { scoresRow[column] = 0 }
                            continue
                        }
                        let blockSum = VectorMath.exponentiate(scoresRow, count: columns, shift: newMax)
                        correction[row] = runningMax[row] == -.infinity ? 0 : VectorMath.exp(SIMD8(repeating: runningMax[row] - newMax))[0]
                        runningSum[row] = runningSum[row] * correction[row] + blockSum
                        runningMax[row] = newMax
                    }
                    if start > 0 {
                        for d in 0..<valueDepth {
                            for row in 0..<rows { t[d * rows + row] *= correction[row] }
                        }
                    }
                    // Oᵀ += Vᵀ_block · Pᵀ: [columns, Dv]ᵀ · [rows, columns]ᵀ -> [Dv, rows]
                    BLAS.sgemm(transposeA: true, transposeB: true, m: valueDepth, n: rows, k: columns,
                               a: UnsafeBufferPointer(rebasing: value[start * valueDepth..<(start + columns) * valueDepth]),
                               lda: valueDepth, b: UnsafeBufferPointer(s), ldb: columns, beta: start == 0 ? 0 : 1,
                               c: t, ldc: rows)
                    start += columns
                }
                for row in 0..<rows {
                    let inverse: Float = online && runningSum[row] > 0 ? 1 / runningSum[row] : 1
                    for d in 0..<valueDepth { output[row * valueDepth + d] = t[d * rows + row] * inverse }
                }
            }
        }
    }
}
