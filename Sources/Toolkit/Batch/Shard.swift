/// `K/N`: a process takes the tasks whose 0-based number i has i mod N = K. Every i has exactly
/// one remainder, so the N shards are disjoint and together cover the batch, whatever order they
/// run in and on whichever machines. A task's number depends only on the batch file (its line
/// number) and the number of takes (``BatchPlan``), never on what another shard did.
public struct Shard: Sendable, Equatable, CustomStringConvertible {
    public var index: Int
    public var count: Int

    /// Every task: `0/1`.
    public static let all = Shard(index: 0, count: 1)

    /// The number of shards, from the environment: a Kubernetes Indexed Job must set it to its
    /// `completions` (Kubernetes gives each pod its index, `JOB_COMPLETION_INDEX`, but not the
    /// count); a Slurm array may (to resubmit part of an array, whose own count is then smaller).
    public static let countVariable = "AUFFUSION_SHARD_COUNT"

    public init(index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    /// Parses `K/N`.
    /// - Throws: ``BatchError/invalidShard(_:)`` unless 0 ≤ K < N.
    public init(_ text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
        guard parts.count == 2, let index = parts[0], let count = parts[1], count >= 1, index >= 0, index < count else {
            throw BatchError.invalidShard(text)
        }
        self.init(index: index, count: count)
    }

    /// The shard of this task of a job array, read from the scheduler's environment:
    /// - a Slurm job array: `SLURM_ARRAY_TASK_ID` of ``countVariable`` shards when it is set (so
    ///   that a part of the array resubmitted, `sbatch --array=5`, is still shard 5 of the whole),
    ///   else of the array's own `SLURM_ARRAY_TASK_COUNT` (or MAX + 1) tasks; such an array
    ///   must be `0-N` with step 1, or some shards would never run;
    /// - a Kubernetes Indexed Job: `JOB_COMPLETION_INDEX` of ``countVariable`` pods.
    /// - Throws: ``BatchError/noScheduler(_:)`` outside both, in both at once, or when the
    ///   variables are inconsistent: never a guess.
    public static func auto(environment: [String: String]) throws -> Shard {
        func number(_ name: String) throws -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text), value >= 0 else { throw BatchError.noScheduler("\(name)=\(text) is not a non-negative integer") }
            return value
        }
        let slurm = try number("SLURM_ARRAY_TASK_ID")
        let kubernetes = try number("JOB_COMPLETION_INDEX")
        switch (slurm, kubernetes) {
        case (nil, nil):
            throw BatchError.noScheduler("not in a Slurm job array (no SLURM_ARRAY_TASK_ID) nor a Kubernetes Indexed Job "
                + "(no JOB_COMPLETION_INDEX); give --shard K/N")
        case (.some, .some):
            throw BatchError.noScheduler("both SLURM_ARRAY_TASK_ID and JOB_COMPLETION_INDEX are set; give --shard K/N")
        case (let id?, nil):
            if let count = try number(countVariable) { return try checked(id, of: count, what: "SLURM_ARRAY_TASK_ID=\(id)") }
            if let step = try number("SLURM_ARRAY_TASK_STEP"), step != 1 {
                throw BatchError.noScheduler("the Slurm array has step \(step); submit a contiguous array (--array=0-N)")
            }
            let minimum = try number("SLURM_ARRAY_TASK_MIN") ?? 0
            guard minimum == 0 else {
                throw BatchError.noScheduler("the Slurm array starts at task \(minimum), not 0; to run again some tasks of a larger "
                    + "array, set \(countVariable) to its number of tasks (its task IDs are the shards), else submit --array=0-N")
            }
            let maximum = try number("SLURM_ARRAY_TASK_MAX")
            guard let count = try number("SLURM_ARRAY_TASK_COUNT") ?? maximum.flatMap({ $0 < Int.max ? $0 + 1 : nil }) else {
                throw BatchError.noScheduler("SLURM_ARRAY_TASK_ID is set but neither SLURM_ARRAY_TASK_COUNT nor a usable SLURM_ARRAY_TASK_MAX")
            }
            if let maximum, maximum != count - 1 {
                throw BatchError.noScheduler("the Slurm array is not contiguous (\(count) tasks from 0 to \(maximum)); "
                    + "submit --array=0-N")
            }
            return try checked(id, of: count, what: "SLURM_ARRAY_TASK_ID=\(id)")
        case (nil, let index?):
            guard let count = try number(countVariable) else {
                throw BatchError.noScheduler("JOB_COMPLETION_INDEX is set but \(countVariable) is not; set it to the "
                    + "Job's completions (docs/batch.md)")
            }
            return try checked(index, of: count, what: "JOB_COMPLETION_INDEX=\(index)")
        }
    }

    private static func checked(_ index: Int, of count: Int, what: String) throws -> Shard {
        guard count >= 1, index >= 0, index < count else {
            throw BatchError.noScheduler("\(what) is not one of \(count) tasks")
        }
        return Shard(index: index, count: count)
    }

    public func contains(_ task: Int) -> Bool { count > 0 && task % count == index }

    public var description: String { "\(index)/\(count)" }
}
