import CKernels
import COpenBLAS

/// Row-major single-precision GEMM: the AVX-512 or AVX2 kernels of `CKernels` where the CPU has
/// them (``InstructionSet/active``), OpenBLAS elsewhere; in a bfloat16 ``ProductPrecision`` scope,
/// the AVX-512 BF16 kernel where the CPU has it.
///
/// Every matrix product of the project goes through here, so that the kernels stay behind one
/// module (no caller sees a CBLAS type). Our own kernels exist because OpenBLAS 0.3.21 (Debian 12)
/// picks its kernel by CPU model, and falls back to its SSE3 "Prescott" kernel on CPUs newer than
/// it knows (an Intel Xeon of family 6, model 207 here): 31 GFLOP/s on one core where the AVX-512
/// kernel reaches 114. OpenBLAS runs on one thread (``ComputeThreads`` says
/// why); a large product is cut here into blocks of rows or columns of `C`, one per thread of
/// ``ComputeThreads``, unless the caller is already one piece of parallel work. The buffer-level
/// ``sgemm`` is `package`-visible only (the audio kernels of this package use it); clients of
/// the libraries see ``matmul(_:_:)`` on tensors.
public enum BLAS {
    /// Products of fewer multiply-adds run whole on the calling thread: below this, handing half
    /// to another thread costs more than it saves.
    package static let parallelMinimumWork = 1 << 21
    /// Block sizes are multiples of this, so no block ends inside OpenBLAS's register tile.
    static let blockGranularity = 16

    /// `C[m×n] = alpha · op(A) · op(B) + beta · C (+ columnBias[j] to column j)`, all row-major.
    ///
    /// - Parameters:
    ///   - a: `m×k` (or `k×m` when `transposeA`), leading dimension `lda`.
    ///   - b: `k×n` (or `n×k` when `transposeB`), leading dimension `ldb`.
    ///   - c: `m×n`, leading dimension `ldc`.
    ///   - columnBias: `n` values added to the rounded sums of their columns as the tiles are
    ///     stored (the same bits as a pass after the product, without reading C again).
    ///   - instructionSet: the kernels to use (tests pass each one the CPU supports).
    ///   - precision: the products' precision; bfloat16 where `instructionSet` has it
    ///     (``ProductPrecision/runs(on:)``), else float32.
    /// - Complexity: O(m·n·k).
    package static func sgemm(
        transposeA: Bool = false, transposeB: Bool = false,
        m: Int, n: Int, k: Int,
        alpha: Float = 1,
        a: UnsafeBufferPointer<Float>, lda: Int,
        b: UnsafeBufferPointer<Float>, ldb: Int,
        beta: Float = 0,
        c: UnsafeMutableBufferPointer<Float>, ldc: Int,
        columnBias: UnsafeBufferPointer<Float>? = nil,
        instructionSet: InstructionSet = .active,
        precision: ProductPrecision = .current
    ) {
        guard m > 0, n > 0, let pa = a.baseAddress, let pb = b.baseAddress, let pc = c.baseAddress else { return }
        precondition(a.count >= (transposeA ? (k - 1) * lda + m : (m - 1) * lda + k), "sgemm: A too small")
        precondition(b.count >= (transposeB ? (n - 1) * ldb + k : (k - 1) * ldb + n), "sgemm: B too small")
        precondition(c.count >= (m - 1) * ldc + n, "sgemm: C too small")
        precondition(columnBias.map { $0.count >= n } ?? true, "sgemm: bias too small")
        ComputeThreads.configureOnce()
        let kernel = instructionSet.kernel
        let bfloat16 = precision == .bfloat16 && precision.runs(on: instructionSet)
        let product = { (a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, m: Int, n: Int,
                         bias: UnsafePointer<Float>?) in
            let (ta, tb): (Int32, Int32) = (transposeA ? 1 : 0, transposeB ? 1 : 0)
            // The kernels fail only when their packing buffers cannot be allocated; OpenBLAS then runs.
            if bfloat16, ck_sgemm_bf16(ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias) == 0 { return }
            if let kernel, ck_sgemm(kernel, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc, bias) == 0 { return }
            cblas_sgemm(CblasRowMajor,
                        transposeA ? CblasTrans : CblasNoTrans,
                        transposeB ? CblasTrans : CblasNoTrans,
                        blasint(m), blasint(n), blasint(k),
                        alpha, a, blasint(lda), b, blasint(ldb), beta, c, blasint(ldc))
            guard let bias else { return }
            for row in 0..<m {
                for column in 0..<n { c[row * ldc + column] += bias[column] }
            }
        }
        let bias = columnBias?.baseAddress
        let threads = ComputeThreads.count
        guard threads > 1, m * n * k >= parallelMinimumWork, !ComputeThreads.isInsideParallelWork else {
            product(pa, pb, pc, m, n, bias)
            return
        }
        // Cut the longer side of C: each block then still multiplies a wide panel.
        let alongRows = m >= n
        let side = alongRows ? m : n
        let blockSize = ((side + threads - 1) / threads + blockGranularity - 1) / blockGranularity * blockGranularity
        ComputeThreads.parallelFor((side + blockSize - 1) / blockSize) { block in
            let start = block * blockSize, size = min(blockSize, side - start)
            if alongRows {
                product(pa + (transposeA ? start : start * lda), pb, pc + start * ldc, size, n, bias)
            } else {
                product(pa, pb + (transposeB ? start * ldb : start), pc + start, m, size, bias.map { $0 + start })
            }
        }
    }

    /// `C = A · B` for row-major tensors `A [m, k]` and `B [k, n]`; returns `[m, n]`.
    public static func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
        precondition(a.rank == 2 && b.rank == 2 && a.shape[1] == b.shape[0],
                     "matmul: shapes \(a.shape) and \(b.shape) do not chain")
        let (m, k, n) = (a.shape[0], a.shape[1], b.shape[1])
        var c = [Float](repeating: 0, count: m * n)
        a.scalars.withUnsafeBufferPointer { pa in
            b.scalars.withUnsafeBufferPointer { pb in
                c.withUnsafeMutableBufferPointer { pc in
                    sgemm(m: m, n: n, k: k, a: pa, lda: k, b: pb, ldb: n, c: pc, ldc: n)
                }
            }
        }
        return Tensor(shape: [m, n], scalars: c)
    }
}
