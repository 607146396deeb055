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
        // The product overwrites every element (no zero fill) and adds the bias as it stores each
        // tile: each element is the rounded `Σ`, then `+ b`, the bits a pass after the product gave.
        let result = [Float](unsafeUninitializedCapacity: rows * outputs) { y, initialized in
            scalars.withUnsafeBufferPointer { x in
                weight.scalars.withUnsafeBufferPointer { w in
                    bias.withUnsafeScalars { b in
                        // [rows, in] · [out, in]ᵀ + b -> [rows, out]
                        BLAS.sgemm(transposeB: true, m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: w, ldb: inputs,
                                   c: y, ldc: outputs, columnBias: b)
                    }
                }
            }
            initialized = rows * outputs
        }
        return Tensor(shape: Array(shape.dropLast()) + [outputs], scalars: result)
    }
}
