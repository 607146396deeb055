import Testing
import Toolkit

@Suite("--shard K/N and --shard auto from Slurm and Kubernetes environments")
struct ShardTests {
    @Test("K/N parses when 0 <= K < N")
    func parse() throws {
        #expect(try Shard("3/4") == Shard(index: 3, count: 4))
        for bad in ["4/4", "-1/4", "0/0", "1", "a/b", "1/2/3", ""] {
            #expect(throws: BatchError.invalidShard(bad)) { try Shard(bad) }
        }
    }

    @Test("a Slurm array's task IDs are the shards, of its count or MAX + 1, or of AUFFUSION_SHARD_COUNT when a part is resubmitted")
    func slurm() throws {
        #expect(try Shard.auto(environment: ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"]) == Shard(index: 2, count: 4))
        #expect(try Shard.auto(environment: ["SLURM_ARRAY_TASK_ID": "3", "SLURM_ARRAY_TASK_MIN": "0", "SLURM_ARRAY_TASK_MAX": "3"])
                    == Shard(index: 3, count: 4))
        // `sbatch --array=5` of a 16-task array: Slurm says one task from 5 to 5.
        let resubmitted = ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_MAX": "5", "SLURM_ARRAY_TASK_COUNT": "1"]
        #expect(try Shard.auto(environment: resubmitted.merging([Shard.countVariable: "16"]) { $1 }) == Shard(index: 5, count: 16))
        #expect(throws: BatchError.self) { try Shard.auto(environment: resubmitted) }
    }

    @Test("a Kubernetes Indexed Job gives JOB_COMPLETION_INDEX of AUFFUSION_SHARD_COUNT")
    func kubernetes() throws {
        #expect(try Shard.auto(environment: ["JOB_COMPLETION_INDEX": "0", Shard.countVariable: "3"]) == Shard(index: 0, count: 3))
    }

    @Test("outside a job array, in both, or with an array it cannot split, auto refuses to guess")
    func refuses() {
        let cases: [([String: String], String)] = [
            ([:], "not in a Slurm job array"),
            (["SLURM_JOB_ID": "7"], "not in a Slurm job array"),
            (["SLURM_ARRAY_TASK_ID": "1"], "neither SLURM_ARRAY_TASK_COUNT"),
            (["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_STEP": "2"], "step 2"),
            (["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "3", "SLURM_ARRAY_TASK_MAX": "7"], "not contiguous"),
            (["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_COUNT": "1", "SLURM_ARRAY_TASK_MIN": "5", "SLURM_ARRAY_TASK_MAX": "5"],
             "starts at task 5, not 0; to run again some tasks of a larger array, set AUFFUSION_SHARD_COUNT"),
            (["SLURM_ARRAY_TASK_ID": "16", "SLURM_ARRAY_TASK_MIN": "16", "AUFFUSION_SHARD_COUNT": "16"], "not one of 16 tasks"),
            (["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"], "not one of 4 tasks"),
            // Bounds at the ends of Int: no overflow, one error each.
            (["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_MAX": "\(Int.max)"], "neither SLURM_ARRAY_TASK_COUNT nor a usable"),
            (["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "2", "SLURM_ARRAY_TASK_MAX": "\(Int.max)"],
             "2 tasks from 0 to \(Int.max)"),
            (["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "\(Int.max)", "SLURM_ARRAY_TASK_MIN": "\(Int.max)", "SLURM_ARRAY_TASK_MAX": "0"],
             "starts at task \(Int.max)"),
            (["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "\(Int.max)", "SLURM_ARRAY_TASK_MAX": "0"], "not contiguous"),
            (["SLURM_ARRAY_TASK_ID": "99999999999999999999", "SLURM_ARRAY_TASK_COUNT": "4"], "not a non-negative integer"),
            (["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"], "not a non-negative integer"),
            (["JOB_COMPLETION_INDEX": "1"], "AUFFUSION_SHARD_COUNT is not"),
            (["JOB_COMPLETION_INDEX": "3", "AUFFUSION_SHARD_COUNT": "3"], "not one of 3 tasks"),
            (["JOB_COMPLETION_INDEX": "0", "AUFFUSION_SHARD_COUNT": "2", "SLURM_ARRAY_TASK_ID": "0"], "both"),
        ]
        for (environment, fragment) in cases {
            do {
                let shard = try Shard.auto(environment: environment)
                Issue.record("\(environment) gave \(shard)")
            } catch {
                #expect("\(error)".hasPrefix("the shard auto: ") && "\(error)".contains(fragment), "\(error)")
            }
        }
    }
}
