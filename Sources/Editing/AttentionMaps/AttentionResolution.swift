/// The spatial size of a level of cross-attention maps: latent rows × columns (`res` of the
/// reference's `aggregate_attention`, docs/reference.md §8.5), written `4x16`.
public struct AttentionResolution: Hashable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    /// Parses `HxW`, e.g. `8x32`; nil unless both are positive integers.
    public init?(_ text: String) {
        let parts = text.lowercased().split(separator: "x", omittingEmptySubsequences: false)
        guard parts.count == 2, let height = Int(parts[0]), let width = Int(parts[1]), height > 0, width > 0 else { return nil }
        self.init(height: height, width: width)
    }

    public var description: String { "\(height)x\(width)" }

    /// The resolutions whose maps an ``AttentionStore`` keeps for latents of `latentHeight` ×
    /// `latentWidth` through a U-Net of `levels` levels: each level halves both sides, and maps of
    /// more than 32² positions are not stored (`[16, 64]`, `[8, 32]`, `[4, 16]` for Auffusion's
    /// 32 × 128 latents), largest first.
    public static func stored(latentHeight: Int, latentWidth: Int, levels: Int) -> [AttentionResolution] {
        (0..<max(levels, 0)).map { AttentionResolution(height: latentHeight >> $0, width: latentWidth >> $0) }
            .filter { $0.height > 0 && $0.width > 0 && $0.height * $0.width <= AttentionStore.storedQueryLimit }
    }
}
