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
        var result = [Float](repeating: 0, count: rows * outputs)
        if let bias {
            precondition(bias.shape == [outputs], "linear: bias \(bias.shape), expected [\(outputs)]")
            for row in 0..<rows { result.replaceSubrange(row * outputs..<(row + 1) * outputs, with: bias.scalars) }
        }
        scalars.withUnsafeBufferPointer { x in
            weight.scalars.withUnsafeBufferPointer { w in
                result.withUnsafeMutableBufferPointer { y in
                    // [rows, in] · [out, in]ᵀ -> [rows, out]
                    BLAS.sgemm(transposeB: true, m: rows, n: outputs, k: inputs, a: x, lda: inputs, b: w, ldb: inputs,
                               beta: bias == nil ? 0 : 1, c: y, ldc: outputs)
                }
            }
        }
        return Tensor(shape: Array(shape.dropLast()) + [outputs], scalars: result)
    }
}
