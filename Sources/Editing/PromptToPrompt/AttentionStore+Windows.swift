import Compute
import Models
import Pipeline

extension AttentionStore {
    /// One store for a span denoised in `windows` (``LatentWindows``), from the store of each
    /// window's controller: what the maps of the whole span (`--maps`, a local blend) are read from.
    ///
    /// Each cross-attention map is joined along time the way the windows' noise predictions are
    /// by default: every map column is widened to the latent columns it covers, the windows are
    /// crossfaded across each overlap (``LatentWindows/joined(_:scale:join:step:)``), and the span's
    /// latent columns are averaged back in groups of the level's factor (the last group may be
    /// short). A level `h × w` of one window becomes `h × ⌈spanWidth·w/windowWidth⌉`.
    /// Self-attention maps are left out: their keys are positions of one window, which no other
    /// window shares. One window's store is returned as it is.
    public convenience init(joining stores: [AttentionStore], windows: LatentWindows) {
        precondition(stores.count == windows.offsets.count && !stores.isEmpty,
                     "AttentionStore: \(stores.count) stores for \(windows.offsets.count) windows")
        let first = stores[0]
        guard windows.isWindowed else {
            self.init(layersPerEvaluation: first.layersPerEvaluation, promptCount: first.promptCount,
                      evaluationCount: first.evaluationCount, entries: first.entries)
            return
        }
        let cross = first.entries.indices.filter { first.entries[$0].site.isCrossAttention }
        let entries = cross.map { index in Self.joined(stores.map { $0.entries[index] }, windows: windows) }
        self.init(layersPerEvaluation: first.layersPerEvaluation, promptCount: first.promptCount,
                  evaluationCount: first.evaluationCount, entries: entries)
    }

    /// The size this store keeps at the level of `resolution`, a size on one canvas of the model:
    /// `resolution` itself when the store has it; otherwise (a store joined from windows, or one
    /// run on a canvas wider than the model's) the size of its cross-attention maps of the same
    /// height (levels differ in height, so the height names the level).
    public func storedResolution(atLevelOf resolution: AttentionResolution) -> AttentionResolution {
        let cross = entries.filter(\.site.isCrossAttention)
        guard !cross.contains(where: { $0.site.height == resolution.height && $0.site.width == resolution.width }),
              let entry = cross.first(where: { $0.site.height == resolution.height }) else { return resolution }
        return AttentionResolution(height: entry.site.height, width: entry.site.width)
    }

    /// The windows' entries of one site joined into the span's (see ``init(joining:windows:)``).
    private static func joined(_ parts: [Entry], windows: LatentWindows) -> Entry {
        var site = parts[0].site
        let factor = windows.windowWidth / site.width          // latent columns per map column
        let shape = parts[0].sum.shape                         // [P, 1, h·w, keys]
        let lines = shape[0] * shape[1] * site.height, keys = shape[3]
        let windowWidth = windows.windowWidth, spanWidth = windows.spanWidth
        // Each window's maps as rows of latent columns, [lines·keys, windowWidth].
        let widened = parts.map { part -> Tensor in
            let values = part.sum.scalars
            var rows = [Float](repeating: 0, count: lines * keys * windowWidth)
            for line in 0..<lines {
                for column in 0..<site.width {
                    for key in 0..<keys {
                        let value = values[(line * site.width + column) * keys + key], row = (line * keys + key) * windowWidth
                        for latent in (column * factor)..<((column + 1) * factor) { rows[row + latent] = value }
                    }
                }
            }
            return Tensor(shape: [lines * keys, windowWidth], scalars: rows)
        }
        let span = windows.joined(widened).scalars             // [lines·keys, spanWidth]
        let width = (spanWidth + factor - 1) / factor
        var sum = [Float](repeating: 0, count: lines * width * keys)
        for line in 0..<lines {
            for key in 0..<keys {
                let row = (line * keys + key) * spanWidth
                for column in 0..<width {
                    let latents = (column * factor)..<min((column + 1) * factor, spanWidth)
                    let total = latents.reduce(Float(0)) { $0 + span[row + $1] }
                    sum[(line * width + column) * keys + key] = total / Float(latents.count)
                }
            }
        }
        site.width = width
        return Entry(site: site, sum: Tensor(shape: [shape[0], shape[1], site.height * width, keys], scalars: sum), heads: parts[0].heads)
    }
}
