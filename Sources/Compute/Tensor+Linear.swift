extension Tensor {
    /// `x · Wᵀ + b` over the last axis (`torch.nn.functional.linear`), one GEMM.
    ///
    /// - Parameters:
    ///   - weight: `[out, in]`, the PyTorch `nn.Linear.weight` layout.
    ///   - bias: `[out]`, optional.
    /// - Returns: `[..., out]` for `self` of shape `[..., in]`.
    public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
        precondition(weight.rank == 2 && shape.last == weight.shape[1],
                     "linear: input \(shape) does not match weight \(weight.shape)")
        let inputs = weight.shape[1], outputs = weight.shape[0]
        let rows = count / Swift.max(1, inputs)
        precondition(bias == nil || bias?.shape == [outputs], "linear: bias \(bias?.shape ?? []), expected [\(outputs)]")
        // The product overwrites every element (no zero fill), then the bias is added in parallel:
        // each element is `Σ + b`, rounded once, as when the bias was the product's initial C.
        let result = [Float](unsafeUninitializedCapacity: rows * outputs) { y, initialized in
            scalars.withUnsafeBufferPointer { x in
                weight.scalars.withUnsafeBufferPointer { w in
                    // [rows, in] · [out, in]ᵀ -> [rows, out]
                    BLAS.sgemm(transposeB: true, m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: w, ldb: inputs,
                               c: y, ldc: outputs)
                }
            }
            if let bias {
                bias.scalars.withUnsafeBufferPointer { b in
                    ComputeThreads.parallelRanges(rows, minimumPerRange: Swift.max(1, (1 << 15) / Swift.max(1, outputs))) { range in
                        for row in range {
                            for column in 0..<outputs { y[row * outputs + column] += b[column] }
                        }
                    }
                }
            }
            initialized = rows * outputs
        }
        return Tensor(shape: Array(shape.dropLast()) + [outputs], scalars: result)
    }
}
