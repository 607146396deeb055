import Models

/// Why cross-attention maps could not be aggregated.
public enum AttentionMapError: Error, Equatable, CustomStringConvertible {
    /// No stored cross-attention map has this resolution; `available` lists those that do.
    case noMaps(AttentionResolution, available: [AttentionResolution])
    /// The prompt index is not one of the run's prompts.
    case noPrompt(Int, promptCount: Int)

    /// ``noMaps(_:available:)`` listing the distinct sizes of `sites` in order of appearance.
    static func noMaps(_ resolution: AttentionResolution, among sites: [AttentionSite]) -> AttentionMapError {
        var available: [AttentionResolution] = []
        for site in sites {
            let size = AttentionResolution(height: site.height, width: site.width)
            if !available.contains(size) { available.append(size) }
        }
        return .noMaps(resolution, available: available)
    }

    public var description: String {
        switch self {
        case .noMaps(let resolution, let available):
            "no cross-attention maps at \(resolution) (this run has: \(available.map(\.description).joined(separator: ", ")))"
        case .noPrompt(let index, let count): "prompt \(index) is not one of the run's \(count) prompts"
        }
    }
}
