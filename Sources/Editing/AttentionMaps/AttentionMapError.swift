/// Why cross-attention maps could not be aggregated.
public enum AttentionMapError: Error, Equatable, CustomStringConvertible {
    /// No stored cross-attention map has this resolution; `available` lists those that do.
    case noMaps(AttentionResolution, available: [AttentionResolution])
    /// The prompt index is not one of the run's prompts.
    case noPrompt(Int, promptCount: Int)

    public var description: String {
        switch self {
        case .noMaps(let resolution, let available):
            "no cross-attention maps at \(resolution) (this run has: \(available.map(\.description).joined(separator: ", ")))"
        case .noPrompt(let index, let count): "prompt \(index) is not one of the run's \(count) prompts"
        }
    }
}
