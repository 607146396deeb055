import Compute
import Foundation
import Pipeline
import Toolkit

/// One job at a time on the CPU, the rest in a queue with their positions.
///
/// A dedicated thread runs the jobs in order (each blocks a core for seconds per step, so it
/// must not run on the server's event loops or Swift's cooperative pool). The running job is
/// driven step by step: after each step (and each window of the encoding, decoding and vocoding
/// around the steps) its progress callback records the status and answers whether to go on, so a
/// cancel frees the CPU within one step or window. A queued job that is cancelled
/// never starts. Every status change is pushed to the job's subscribers (server-sent events; a
/// stage's windows at most four times a second);
/// a subscriber gets the current status first, so a reloaded page picks its job up again.
final class JobQueue: @unchecked Sendable {   // all state behind `condition`
    /// What the worker runs: a job's work, reporting where it is and asking whether to go on.
    typealias Work = @Sendable (_ progress: (JobProgress) -> Bool) throws -> Int

    private struct Entry {
        var status: JobStatus
        var work: Work?
        var cancelRequested = false
        var started: Date?
        var finished: Date?
        var clock = ProgressClock()
        var lastPublished: Date?
    }

    private let condition = NSCondition()
    private var entries: [String: Entry] = [:]
    private var waiting: [String] = []
    private var subscribers: [UUID: (job: String, continuation: AsyncStream<JobStatus?>.Continuation)] = [:]
    private let capacity: Int
    /// Finished jobs, oldest first: past `finishedLimit` the oldest is forgotten.
    private var finishedOrder: [String] = []
    private let finishedLimit: Int
    private var thread: Thread?
    private var ticker: (any DispatchSourceTimer)?

    /// A queue holding at most `capacity` waiting jobs behind the running one (0: a job is taken
    /// only when none runs) and remembering at most `finishedLimit` finished ones (a client that
    /// submitted and cancelled 10,000 generations once grew it for a day, every submit slower).
    init(capacity: Int, finishedLimit: Int) {
        self.capacity = capacity
        self.finishedLimit = finishedLimit
    }

    /// Starts the worker thread, and a keep-alive (`nil`) to every event stream every
    /// `keepAlive` seconds; `describe` turns a job's error into its message.
    func start(keepAlive: Double, describe: @escaping @Sendable (any Error) -> String) {
        let thread = Thread { [self] in
            while let (id, work) = nextJob() { execute(id, work, describe: describe) }
        }
        thread.name = "auffusion-serve-jobs"
        thread.stackSize = 16 << 20
        self.thread = thread
        thread.start()
        let ticker = DispatchSource.makeTimerSource()
        ticker.schedule(deadline: .now() + keepAlive, repeating: keepAlive)
        ticker.setEventHandler { [weak self] in
            guard let self else { return }
            condition.withLock { for subscriber in subscribers.values { subscriber.continuation.yield(nil) } }
        }
        ticker.resume()
        self.ticker = ticker
    }

    /// Ends every event stream (a graceful shutdown waits for open responses).
    func endStreams() {
        condition.withLock {
            for subscriber in subscribers.values { subscriber.continuation.finish() }
            subscribers = [:]
        }
    }

    /// Queues `work` as job `id`; returns its status. `admit` runs first under the queue's lock
    /// (the clip still exists: a delete cannot slip in between its check and the queueing).
    /// - Throws: ``ServerError`` (429) when the queue is full; what `admit` throws.
    func submit(id: String, kind: EditRequest.Kind, clip: String?, admit: () throws -> Void = {},
                work: @escaping Work) throws -> JobStatus {
        condition.lock()
        defer { condition.unlock() }
        try admit()
        let running = entries.values.contains { $0.status.state == .running } ? 1 : 0
        guard waiting.count + running < capacity + 1 else {
            throw ServerError(.tooManyRequests, "the queue is full (\(capacity) jobs wait behind the running one); try again when one has finished")
        }
        waiting.append(id)
        entries[id] = Entry(status: JobStatus(id: id, kind: kind, clip: clip, state: .queued, position: waiting.count), work: work)
        condition.signal()
        publishLocked([id])
        return entries[id]!.status
    }

    /// The status of job `id`, or a 404.
    func status(_ id: String) throws -> JobStatus {
        condition.lock()
        defer { condition.unlock() }
        guard let entry = entries[id] else { throw ServerError.notFound("no job \"\(id.prefix(40))\"; finished jobs are forgotten with their clip, --keep-hours after they ended, or beyond the newest \(finishedLimit)") }
        return entry.status
    }

    /// Every job the queue knows, running first, then waiting in order, then finished.
    func all() -> [JobStatus] {
        condition.lock()
        defer { condition.unlock() }
        return entries.values.map(\.status).sorted { rank($0) < rank($1) }
    }

    private func rank(_ status: JobStatus) -> Int {
        switch status.state {
        case .running: 0
        case .queued: status.position ?? 1
        default: Int.max
        }
    }

    /// Cancels job `id`: a waiting job is dropped at once; the running one stops after its current step or window.
    func cancel(_ id: String) throws -> JobStatus {
        condition.lock()
        defer { condition.unlock() }
        guard var entry = entries[id] else { throw ServerError.notFound("no job \"\(id.prefix(40))\"") }
        switch entry.status.state {
        case .queued:
            waiting.removeAll { $0 == id }
            entry.status.state = .cancelled
            entry.status.position = nil
            entry.work = nil
            entry.finished = Date()
            entries[id] = entry
            finishedLocked(id)
            renumberLocked()
            publishLocked(Array(waiting) + [id])
        case .running:
            entries[id]?.cancelRequested = true
        case .done, .failed, .cancelled:
            break
        }
        return entries[id]!.status
    }

    /// Runs `body` (a clip's deletion) when no job of `clip` is queued or running, with the queue's
    /// lock held so that none can be queued meanwhile; otherwise throws 409 naming those jobs.
    func withoutJobs(of clip: String, _ body: () throws -> Void) throws {
        condition.lock()
        defer { condition.unlock() }
        let busy = entries.values.filter { $0.status.clip == clip && !$0.status.state.isFinal }.map(\.status.id).sorted()
        guard busy.isEmpty else {
            throw ServerError(.conflict, "clip \"\(clip)\" has a queued or running job (\(busy.joined(separator: ", "))); cancel it (DELETE /api/jobs/ID) and delete the clip again")
        }
        try body()
        forgetLocked { $0.status.clip == clip }
    }

    /// The clips of queued and running jobs, which expiry must spare.
    func busyClips() -> Set<String> {
        condition.lock()
        defer { condition.unlock() }
        return Set(entries.values.filter { !$0.status.state.isFinal }.compactMap(\.status.clip))
    }

    /// Forgets the finished jobs of `clips` (expired with them), and any that finished before
    /// `date` (a failed or cancelled generation's clip is gone at once, and never expires).
    func forget(clips: Set<String>, finishedBefore date: Date) {
        condition.lock()
        defer { condition.unlock() }
        forgetLocked { entry in
            entry.status.state.isFinal && (entry.status.clip.map(clips.contains) == true || entry.finished.map { $0 < date } == true)
        }
    }

    /// Drops the entries `forgotten` picks, and their places in the finished order.
    private func forgetLocked(_ forgotten: (Entry) -> Bool) {
        entries = entries.filter { !forgotten($0.value) }
        finishedOrder.removeAll { entries[$0] == nil }
    }

    /// The statuses of job `id`, the current one first, until it is final, with a `nil` at every
    /// keep-alive: writing it to a connection whose client has gone fails, which ends the stream
    /// and frees its socket (a closed page's stream of a queued job used to stay until the job's
    /// status changed: 5,000 of them held 3,000 sockets and 1 GB).
    func events(_ id: String) throws -> AsyncStream<JobStatus?> {
        condition.lock()
        defer { condition.unlock() }
        guard let entry = entries[id] else { throw ServerError.notFound("no job \"\(id.prefix(40))\"") }
        let (stream, continuation) = AsyncStream.makeStream(of: JobStatus?.self, bufferingPolicy: .bufferingNewest(32))
        continuation.yield(entry.status)
        if entry.status.state.isFinal {
            continuation.finish()
        } else {
            let key = UUID()
            subscribers[key] = (id, continuation)
            // Called from inside `finish()`, which may run under the lock: unsubscribe later.
            continuation.onTermination = { [weak self] _ in
                guard let self else { return }
                DispatchQueue.global().async { self.unsubscribe(key) }
            }
        }
        return stream
    }

    private func unsubscribe(_ key: UUID) {
        condition.lock()
        defer { condition.unlock() }
        subscribers.removeValue(forKey: key)
    }

    // MARK: - The worker

    private func nextJob() -> (String, Work)? {
        condition.lock()
        defer { condition.unlock() }
        while true {
            if let id = waiting.first {
                waiting.removeFirst()
                guard var entry = entries[id], let work = entry.work else { continue }
                entry.status.state = .running
                entry.status.position = nil
                entry.started = Date()
                entry.clock = ProgressClock()
                entry.work = nil
                entries[id] = entry
                renumberLocked()
                publishLocked([id] + waiting)
                return (id, work)
            }
            condition.wait()
        }
    }

    private func execute(_ id: String, _ work: Work, describe: (any Error) -> String) {
        let outcome: Result<Int, any Error> = Result {
            try work { progress in self.progress(id, progress) }
        }
        // The job's activations were freed into the heaps of the threads that ran it, which keep
        // them (ComputeThreads' thresholds); a server held 2–3 MB more after every job.
        HeapMemory.returnFreed()
        condition.lock()
        defer { condition.unlock() }
        guard var entry = entries[id] else { return }
        switch outcome {
        case .success(let version):
            entry.status.state = .done
            entry.status.version = version
        case .failure where entry.cancelRequested:
            entry.status.state = .cancelled
        case .failure(let error):
            entry.status.state = .failed
            entry.status.error = describe(error)
        }
        entry.finished = Date()
        (entry.status.secondsLeft, entry.status.stage, entry.status.stageDone, entry.status.stageTotal) = (nil, nil, nil, nil)
        entry.status.elapsed = entry.started.map { Date().timeIntervalSince($0) }
        entries[id] = entry
        publishLocked([id])
        finishedLocked(id)
    }

    /// Counts job `id` as finished, forgetting the oldest finished ones past the limit.
    private func finishedLocked(_ id: String) {
        finishedOrder.append(id)
        while finishedOrder.count > finishedLimit { entries[finishedOrder.removeFirst()] = nil }
    }

    /// Records where the running job is; returns whether it goes on. The time left is the steps'
    /// while it denoises and the stage's while one runs, each timed by ``ProgressClock``. Every
    /// step is pushed to the subscribers; a stage's units (Griffin-Lim's hundreds of iterations)
    /// at most every ``stagePublishingInterval`` seconds, and its first and last.
    private func progress(_ id: String, _ progress: JobProgress) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard var entry = entries[id] else { return false }
        let now = Date()
        let stage = progress.rendering?.stage.rawValue
        let newStage = stage != entry.status.stage
        // Before the plan is checked (a long clip's first encoding) the steps' total is unknown (0): none is shown.
        (entry.status.step, entry.status.total) = progress.total > 0 ? (progress.step, progress.total) : (nil, nil)
        entry.status.elapsed = now.timeIntervalSince(entry.started ?? now)
        (entry.status.stage, entry.status.stageDone, entry.status.stageTotal) = (stage, progress.rendering?.done, progress.rendering?.total)
        let (done, total) = progress.rendering.map { ($0.done, $0.total) } ?? (progress.step, progress.total)
        entry.status.secondsLeft = entry.clock.record(stage ?? "step", done: done, of: total, at: now).left
        let publishes = progress.rendering.map { newStage || $0.done >= $0.total } ?? true
            || now.timeIntervalSince(entry.lastPublished ?? .distantPast) >= Self.stagePublishingInterval
        if publishes { entry.lastPublished = now }
        entries[id] = entry
        if publishes { publishLocked([id]) }
        return !entry.cancelRequested
    }

    /// Seconds between two pushed statuses of a stage's units.
    static let stagePublishingInterval = 0.25

    private func renumberLocked() {
        for (index, id) in waiting.enumerated() { entries[id]?.status.position = index + 1 }
    }

    /// Pushes the statuses of `ids` to their subscribers, and ends the streams of final jobs.
    private func publishLocked(_ ids: [String]) {
        let changed = Set(ids)
        for (key, subscriber) in subscribers where changed.contains(subscriber.job) {
            guard let status = entries[subscriber.job]?.status else { continue }
            subscriber.continuation.yield(status)
            if status.state.isFinal {
                subscriber.continuation.finish()
                subscribers.removeValue(forKey: key)
            }
        }
    }
}
