import Compute

/// How an edited prompt's cross-attention is derived from the source prompt's: the
/// `replace_cross_attention` of Auffusion prompt2prompt/ptp_utils.py's edit controllers.
public protocol CrossAttentionEdit: Sendable {
    /// - Parameters:
    ///   - base: the source prompt's maps `[H, Nq, Nk]`.
    ///   - edited: the edited prompts' own maps `[E, H, Nq, Nk]`.
    /// - Returns: `[E, H, Nq, Nk]`.
    func apply(base: Tensor, edited: Tensor) -> Tensor
}

/// Word swap: `einsum('hpw,bwn->bhpn', base, M)` with the replacement mapper `M` `[E, Nk, Nk]`
/// (port of `AttentionReplace.replace_cross_attention`).
public struct WordSwap: CrossAttentionEdit {
    /// One `[Nk, Nk]` mapper per edited prompt.
    public let mappers: [Tensor]

    public init(mappers: [Tensor]) { self.mappers = mappers }

    public func apply(base: Tensor, edited: Tensor) -> Tensor {
        let (heads, queries, keys) = (base.shape[0], base.shape[1], base.shape[2])
        let rows = base.reshaped([heads * queries, keys])                 // [H, Nq, Nk] -> [H·Nq, Nk]
        let parts = mappers.map { BLAS.matmul(rows, $0).reshaped([1, heads, queries, keys]) }
        return Tensor.concatenated(parts, axis: 0)                        // [E, H, Nq, Nk]
    }
}

/// Refinement: `base[:, :, mapper] · α + edited · (1 − α)` per edited prompt (port of
/// `AttentionRefine.replace_cross_attention`); mapper index −1 (an inserted token) reads the
/// last key, as Python's negative index does, and has α = 0.
public struct Refinement: CrossAttentionEdit {
    public let mappers: [[Int]]
    public let alphas: [[Float]]

    public init(mappers: [[Int]], alphas: [[Float]]) {
        self.mappers = mappers
        self.alphas = alphas
    }

    public func apply(base: Tensor, edited: Tensor) -> Tensor {
        let (heads, queries, keys) = (base.shape[0], base.shape[1], base.shape[2])
        var result = edited
        let b = base.scalars
        result.scalars.withUnsafeMutableBufferPointer { out in
            for prompt in mappers.indices {
                let source = mappers[prompt].map { $0 < 0 ? keys + $0 : $0 }, alpha = alphas[prompt]
                for row in 0..<(heads * queries) {
                    let from = row * keys, to = (prompt * heads * queries + row) * keys
                    for key in 0..<keys {
                        out[to + key] = b[from + source[key]] * alpha[key] + out[to + key] * (1 - alpha[key])
                    }
                }
            }
        }
        return result
    }
}

/// Reweighting: the (optionally previously edited) source maps times an equalizer over the keys
/// (port of `AttentionReweight.replace_cross_attention`; `get_equalizer`).
public struct Reweighting: CrossAttentionEdit {
    /// `[Nk]` factors, 1 except at the reweighted words' tokens.
    public let equalizer: [Float]
    /// The edit applied first (a word swap or refinement), or none.
    public let previous: (any CrossAttentionEdit)?

    public init(equalizer: [Float], previous: (any CrossAttentionEdit)? = nil) {
        self.equalizer = equalizer
        self.previous = previous
    }

    public func apply(base: Tensor, edited: Tensor) -> Tensor {
        let keys = base.shape[2]
        let source: Tensor
        if let previous {
            source = previous.apply(base: base, edited: edited)
        } else {
            let copies = edited.shape[0]
            source = Tensor.concatenated(Array(repeating: base.reshaped([1] + base.shape), count: copies), axis: 0)
        }
        var result = source                                               // [E, H, Nq, Nk]
        result.scalars.withUnsafeMutableBufferPointer { out in
            for index in 0..<out.count { out[index] *= equalizer[index % keys] }
        }
        return result
    }
}
