/// How many outputs each line of a batch makes, and from which seeds: `-n N` or `--seeds 1,2,5-9`.
///
/// Take k (0-based) of a line draws its noise from, in order of precedence:
/// 1. the line's own `"seed"` + k;
/// 2. the k-th seed of the list;
/// 3. the run's base seed (`--seed`) + k;
/// 4. a seed drawn at random for it, which the manifest and `--json` report.
public struct Takes: Sendable, Equatable {
    /// The most takes a line may ask for (the seed list is held whole).
    public static let maximumCount = 10_000

    /// Takes per line.
    public let count: Int
    /// The seed of each take, when given as a list.
    public let seeds: [UInt64]?
    /// The first seed of each line's takes, when given.
    public var baseSeed: UInt64?

    /// One take.
    public static let one = Takes(uncheckedCount: 1)

    private init(uncheckedCount: Int) {
        count = uncheckedCount
        seeds = nil
    }

    /// `count` takes per line.
    /// - Throws: ``BatchError/invalidTakeCount(_:)`` unless 1 ≤ count ≤ ``maximumCount``.
    public init(count: Int, baseSeed: UInt64? = nil) throws {
        guard (1...Self.maximumCount).contains(count) else { throw BatchError.invalidTakeCount(count) }
        self.count = count
        seeds = nil
        self.baseSeed = baseSeed
    }

    /// One take per seed of `list`: `1,2,5-9` (ranges inclusive; no seed twice).
    /// - Throws: ``BatchError/invalidSeeds(_:)``.
    public init(seeds list: String) throws {
        var seeds: [UInt64] = []
        for item in list.split(separator: ",", omittingEmptySubsequences: false) {
            let ends = item.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).map { UInt64($0) }
            guard let low = ends.first ?? nil, let high = ends.count == 2 ? ends[1] : low, low <= high else {
                throw BatchError.invalidSeeds("expected seeds and ranges such as 1,2,5-9, got \(list)")
            }
            guard high - low < UInt64(Self.maximumCount - seeds.count) else {
                throw BatchError.invalidSeeds("more than \(Self.maximumCount) seeds")
            }
            seeds += low...high
        }
        guard Set(seeds).count == seeds.count else { throw BatchError.invalidSeeds("a seed is listed twice in \(list)") }
        count = seeds.count
        self.seeds = seeds
    }

    /// The seed of take `take` (0-based) of a line whose own seed is `lineSeed`; `nil`: draw one.
    public func seed(take: Int, lineSeed: UInt64?) -> UInt64? {
        if let lineSeed { return lineSeed &+ UInt64(take) }
        if let seeds { return seeds[take] }
        return baseSeed.map { $0 &+ UInt64(take) }
    }
}
