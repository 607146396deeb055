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
        let (items, heads) = (query.shape[0], query.shape[1])
        let (_, queries, keys, depth, valueDepth) = validate(query, key, value)
        let output = attend(query, key, value, items: items, heads: heads, queries: queries, keys: keys, depth: depth,
                            valueDepth: valueDepth, arrangement: HeadRows.headsMajor, scale: scale, causal: causal)
        return Tensor(shape: Array(query.shape.dropLast()) + [valueDepth], scalars: output)
    }

    /// The attention output of `heads` heads whose rows lie side by side in each token's row, as
    /// the projections write them: the result of the heads-major form with the heads split before
    /// and merged after, to the bit, without the two copies.
    /// - Parameters:
    ///   - query: `[B, Nq, H·D]`.
    ///   - key: `[B, Nk, H·D]`.
    ///   - value: `[B, Nk, H·Dv]`.
    /// - Returns: `[B, Nq, H·Dv]`.
    public static func scaledDotProduct(query: Tensor, key: Tensor, value: Tensor, heads: Int, scale: Float,
                                        causal: Bool = false) -> Tensor {
        precondition(query.rank == 3 && key.rank == 3 && value.rank == 3 && heads > 0 && key.shape[1] > 0,
                     "attention: expected [B, N, H·D] tensors and at least one key")
        precondition(query.shape[0] == key.shape[0] && key.shape[0...1] == value.shape[0...1] && query.shape[2] == key.shape[2]
                     && query.shape[2] % heads == 0 && value.shape[2] % heads == 0,
                     "attention: query \(query.shape), key \(key.shape), value \(value.shape) do not match \(heads) heads")
        let (items, queries, keys) = (query.shape[0], query.shape[1], key.shape[1])
        let (depth, valueDepth) = (query.shape[2] / heads, value.shape[2] / heads)
        let output = attend(query, key, value, items: items, heads: heads, queries: queries, keys: keys, depth: depth,
                            valueDepth: valueDepth, arrangement: HeadRows.tokensMajor, scale: scale, causal: causal)
        return Tensor(shape: [items, queries, heads * valueDepth], scalars: output)
    }

    /// The online-softmax attention of every head of every item, in blocks of queries run in
    /// parallel, each operand's rows (and the output's) where `arrangement` puts them.
    private static func attend(_ query: Tensor, _ key: Tensor, _ value: Tensor, items: Int, heads: Int, queries: Int, keys: Int,
                               depth: Int, valueDepth: Int, arrangement: (_ heads: Int, _ rows: Int, _ width: Int) -> HeadRows,
                               scale: Float, causal: Bool) -> [Float] {
        let layout = (query: arrangement(heads, queries, depth), key: arrangement(heads, keys, depth),
                      value: arrangement(heads, keys, valueDepth), output: arrangement(heads, queries, valueDepth))
        let blocksPerHead = (queries + queryBlock - 1) / queryBlock
        // Every element is written by its head's query block (its row, its head's piece): no zero fill.
        let count = items * heads * queries * valueDepth
        var output = [Float](unsafeUninitializedCapacity: count) { _, initialized in initialized = count }
        query.scalars.withUnsafeBufferPointer { q in
            key.scalars.withUnsafeBufferPointer { k in
                value.scalars.withUnsafeBufferPointer { v in
                    output.withUnsafeMutableBufferPointer { o in
                        ComputeThreads.parallelFor(items * heads * blocksPerHead) { task in
                            let (item, head) = (task / blocksPerHead).quotientAndRemainder(dividingBy: heads)
                            let first = task % blocksPerHead * queryBlock, rows = Swift.min(queryBlock, queries - first)
                            let block = OnlineSoftmaxBlock(rows: rows, firstQuery: first, keys: keys, depth: depth,
                                                           valueDepth: valueDepth, scale: scale, causal: causal)
                            let span = { (rows: HeadRows, range: Range<Int>, width: Int) in
                                rows.span(range, item: item, head: head, width: width)
                            }
                            block.run(
                                query: StridedRows(buffer: UnsafeBufferPointer(rebasing: q[span(layout.query, first..<first + rows, depth)]),
                                                   stride: layout.query.rowStride),
                                key: StridedRows(buffer: UnsafeBufferPointer(rebasing: k[span(layout.key, 0..<keys, depth)]),
                                                 stride: layout.key.rowStride),
                                value: StridedRows(buffer: UnsafeBufferPointer(rebasing: v[span(layout.value, 0..<keys, valueDepth)]),
                                                   stride: layout.value.rowStride),
                                output: StridedRows(buffer: UnsafeMutableBufferPointer(rebasing: o[span(layout.output, first..<first + rows, valueDepth)]),
                                                    stride: layout.output.rowStride))
                        }
                    }
                }
            }
        }
        return output
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
/// kernels' 32-wide tiles, while `rows` (256) fills them whole and 40 rows fill five 8-row tiles
/// on AVX-512 (40 of 48 rows of 12-row ones elsewhere). Every
/// element is summed over the keys in the same order either way, so the result is unchanged to
/// the bit, and still equals ``Attention/weightedSum(probabilities:value:)``'s.
private struct OnlineSoftmaxBlock {
    let rows: Int, firstQuery: Int, keys: Int, depth: Int, valueDepth: Int
    let scale: Float, causal: Bool

    func run(query: StridedRows<UnsafeBufferPointer<Float>>, key: StridedRows<UnsafeBufferPointer<Float>>,
             value: StridedRows<UnsafeBufferPointer<Float>>, output: StridedRows<UnsafeMutableBufferPointer<Float>>) {
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
                    BLAS.sgemm(transposeB: true, m: rows, n: columns, k: depth, alpha: scale, a: query.buffer, lda: query.stride,
                               b: key.rows(start..<start + columns, width: depth), ldb: key.stride, c: s, ldc: columns)
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
                               a: value.rows(start..<start + columns, width: valueDepth), lda: value.stride,
                               b: UnsafeBufferPointer(s), ldb: columns, beta: start == 0 ? 0 : 1, c: t, ldc: rows)
                    start += columns
                }
                for row in 0..<rows {
                    let inverse: Float = online && runningSum[row] > 0 ? 1 / runningSum[row] : 1
                    for d in 0..<valueDepth { output.buffer[row * output.stride + d] = t[d * rows + row] * inverse }
                }
            }
        }
    }
}

/// Where the rows of one head of one batch item lie in a buffer: row `r` of head `h` of item `b`
/// starts at `b · itemStride + h · headStride + r · rowStride`.
struct HeadRows {
    let itemStride: Int, headStride: Int, rowStride: Int

    /// `[B, H, N, W]`: each head's rows one after another.
    static func headsMajor(heads: Int, rows: Int, width: Int) -> HeadRows {
        HeadRows(itemStride: heads * rows * width, headStride: rows * width, rowStride: width)
    }

    /// `[B, N, H·W]`: each row holds every head's piece, side by side.
    static func tokensMajor(heads: Int, rows: Int, width: Int) -> HeadRows {
        HeadRows(itemStride: rows * heads * width, headStride: width, rowStride: heads * width)
    }

    /// The floats from the start of the first of rows `range` of head `head` of item `item` to
    /// the end of the last, `width` floats a row.
    func span(_ range: Range<Int>, item: Int, head: Int, width: Int) -> Range<Int> {
        Self.span(range, from: item * itemStride + head * headStride, stride: rowStride, width: width)
    }

    /// The floats of rows `range` of `width` floats, `stride` apart from `origin` on.
    static func span(_ range: Range<Int>, from origin: Int, stride: Int, width: Int) -> Range<Int> {
        let start = origin + range.lowerBound * stride
        return start..<(range.isEmpty ? start : start + (range.count - 1) * stride + width)
    }
}

/// Rows `stride` floats apart in `buffer`, the first at its start.
struct StridedRows<Buffer> {
    let buffer: Buffer
    let stride: Int
}

extension StridedRows<UnsafeBufferPointer<Float>> {
    /// Rows `range` of these, `width` floats each.
    func rows(_ range: Range<Int>, width: Int) -> UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(rebasing: buffer[HeadRows.span(range, from: 0, stride: stride, width: width)])
    }
}
