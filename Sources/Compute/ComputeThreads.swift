import CMalloc
import COpenBLAS
import Dispatch
import Foundation

/// The process-wide thread budget of the Dispatch-parallel kernels, matrix products included.
///
/// Set `AUFFUSION_THREADS` to choose it; the default is every active core. OpenBLAS itself always
/// runs on one thread: ``BLAS`` splits large products into blocks and runs them through
/// ``parallelFor(_:_:)`` like every other kernel, so there is one pool and it is never
/// oversubscribed.
public enum ComputeThreads {
    /// Number of threads used by every kernel.
    public static let count: Int = {
        if let text = ProcessInfo.processInfo.environment["AUFFUSION_THREADS"],
           let value = Int(text), value > 0 {
            return value
        }
        return max(1, ProcessInfo.processInfo.activeProcessorCount)
    }()

    private static let configured: Bool = {
        // OpenBLAS's own workers wait for work by spinning on sched_yield. On a machine another
        // process keeps busy, every multi-threaded GEMM then waits for a descheduled worker: a
        // 25-step generation took 64 s instead of 1.3 s. Dispatch's idle threads sleep instead.
        openblas_set_num_threads(1)
        // Activations are tens of megabytes and short-lived. glibc would map each with mmap and
        // return it on free, so every kernel call faulted in and zeroed fresh pages; keeping such
        // blocks in the heap makes a U-Net step reuse its memory.
        mallopt(M_MMAP_THRESHOLD, 1 << 30)
        mallopt(M_TRIM_THRESHOLD, 1 << 30)
        return true
    }()

    /// Puts OpenBLAS on one thread; called by every BLAS entry point, cheap after the first call.
    public static func configureOnce() { _ = configured }

    /// Runs `body(chunk)` for `chunk` in `0..<chunks` on up to ``count`` threads, each in the
    /// caller's ``ProductPrecision``. `body` must only write to memory that no other chunk writes.
    public static func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || count == 1 {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        // concurrentPerform wants a @Sendable closure, but it returns only after every
        // iteration has finished, so `body` never outlives this call; callers guarantee that
        // chunks write disjoint memory. Hence the unchecked box.
        let precision = ThreadScope.precision
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedSendable(escapable)
            DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                ThreadScope.runningChunk(precision: precision) { box.value(chunk) }
            }
        }
    }

    /// Whether the calling thread is running a chunk of ``parallelFor(_:_:)``: work it starts
    /// itself (a matrix product inside an attention head) should then run on this thread alone.
    static var isInsideParallelWork: Bool { ThreadScope.isInsideParallelWork }

    /// Splits `0..<total` into at most ``count`` contiguous ranges and runs `body` on each in parallel.
    public static func parallelRanges(_ total: Int, minimumPerRange: Int = 1, _ body: (Range<Int>) -> Void) {
        let pieces = max(1, min(count, total / max(1, minimumPerRange)))
        let size = (total + pieces - 1) / max(1, pieces)
        parallelFor(pieces) { piece in
            let start = piece * size
            let end = min(total, start + size)
            if start < end { body(start..<end) }
        }
    }
}

/// What the scope a thread runs in has set: whether it runs a chunk of ``ComputeThreads/parallelFor(_:_:)``,
/// and its ``ProductPrecision``.
enum ThreadScope {
    // pthread keys because Swift has no thread-local storage; the keys live for the process.
    private static let parallelKey = makeKey(), precisionKey = makeKey()

    private static func makeKey() -> pthread_key_t {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }

    static var isInsideParallelWork: Bool { pthread_getspecific(parallelKey) != nil }

    /// float32 is stored as no value, so that a thread that never set it reads float32.
    static var precision: ProductPrecision {
        get { pthread_getspecific(precisionKey) == nil ? .float32 : .bfloat16 }
        set { pthread_setspecific(precisionKey, newValue == .bfloat16 ? UnsafeRawPointer(bitPattern: 1) : nil) }
    }

    /// Runs `body` as a chunk of parallel work in `precision`, then restores the thread's own scope.
    static func runningChunk(precision: ProductPrecision, _ body: () -> Void) {
        let (wasInside, previousPrecision) = (pthread_getspecific(parallelKey), self.precision)
        pthread_setspecific(parallelKey, UnsafeRawPointer(bitPattern: 1))
        self.precision = precision
        defer {
            pthread_setspecific(parallelKey, wasInside)
            self.precision = previousPrecision
        }
        body()
    }
}

/// Carries a value across a concurrency boundary whose safety the compiler cannot see.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
