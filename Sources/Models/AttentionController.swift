import Compute

/// Where an attention layer sits in the U-Net, so that an ``AttentionController`` can decide
/// what to do with it (prompt-to-prompt edits address layers by these coordinates).
public struct AttentionSite: Hashable, Sendable, CustomStringConvertible {
    /// The part of the U-Net.
    public enum Place: String, Sendable { case down, mid, up }

    public var place: Place
    /// Index of the block within its place (down blocks 0…, up blocks 0…; 0 for mid).
    public var block: Int
    /// Index of the transformer within its block.
    public var layer: Int
    /// Cross-attention (`attn2`, keys from the text) or self-attention (`attn1`).
    public var isCrossAttention: Bool
    /// Spatial size of the queries (latent rows × columns at this level).
    public var height: Int
    public var width: Int

    public init(place: Place, block: Int, layer: Int, isCrossAttention: Bool, height: Int, width: Int) {
        self.place = place
        self.block = block
        self.layer = layer
        self.isCrossAttention = isCrossAttention
        self.height = height
        self.width = width
    }

    /// Number of query positions, `height · width`.
    public var queryCount: Int { height * width }

    public var description: String {
        "\(place)\(place == .mid ? "" : String(block)).\(layer).\(isCrossAttention ? "cross" : "self")@\(height)x\(width)"
    }
}

/// What an ``AttentionController`` was built for: the prompts denoised together (the rows of a
/// batch's conditional half; the batch is `P` rows, or `2P` under guidance) and the attention
/// layers one U-Net evaluation runs, by which it counts evaluations.
public struct AttentionRunShape: Equatable, Sendable, CustomStringConvertible {
    public var promptCount: Int
    public var layersPerEvaluation: Int

    public init(promptCount: Int, layersPerEvaluation: Int) {
        self.promptCount = promptCount
        self.layersPerEvaluation = layersPerEvaluation
    }

    public var description: String {
        "\(promptCount) prompt\(promptCount == 1 ? "" : "s") and \(layersPerEvaluation) attention layers per evaluation"
    }
}

/// Observes or rewrites attention probabilities inside the U-Net (prompt-to-prompt,
/// attention maps). Owned by `Models` so that every attention layer can call it.
///
/// For every attention layer of a forward pass, in execution order, the layer asks
/// ``wantsProbabilities(at:)``; if the answer is yes, it computes the probabilities
/// `softmax(scale·QKᵀ)` of shape `[B, heads, Nq, Nk]` (B is the whole guidance batch, laid out
/// `[unconditional…, conditional…]`), passes them to ``process(_:at:)``, and weights the values
/// with what it returns. Otherwise it takes the fast tiled path and the controller is not called.
public protocol AttentionController: AnyObject {
    /// The runs it was built for; `nil` fits any. The U-Net refuses to evaluate a batch that does
    /// not fit it, instead of letting it read rows past its prompts or count evaluations wrong.
    var runShape: AttentionRunShape? { get }
    /// Whether the layer at `site` must hand over its probabilities.
    func wantsProbabilities(at site: AttentionSite) -> Bool
    /// Returns the probabilities to use (same shape), after observing or editing them.
    func process(_ probabilities: Tensor, at site: AttentionSite) -> Tensor
}
