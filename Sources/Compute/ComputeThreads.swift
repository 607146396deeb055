import CMalloc
import COpenBLAS
import Dispatch
import Foundation

/// The process-wide thread budget shared by OpenBLAS and the Dispatch-parallel kernels.
///
/// Set `AUFFUSION_THREADS` to choose it; the default is every active core. OpenBLAS runs with
/// the same count, and kernels that split work themselves call ``parallelFor(_:_:)`` from
/// outside BLAS calls, so the two never run at once and the machine is not oversubscribed.
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
        openblas_set_num_threads(Int32(count))
        // Activations are tens of megabytes and short-lived. glibc would map each with mmap and
        // return it on free, so every kernel call faulted in and zeroed fresh pages; keeping such
        // blocks in the heap makes a U-Net step reuse its memory.
        mallopt(M_MMAP_THRESHOLD, 1 << 30)
        mallopt(M_TRIM_THRESHOLD, 1 << 30)
        return true
    }()

    /// Applies ``count`` to OpenBLAS; called by every BLAS entry point, cheap after the first call.
    public static func configureOnce() { _ = configured }

    /// Runs `body(chunk)` for `chunk` in `0..<chunks` on up to ``count`` threads.
    /// `body` must only write to memory that no other chunk writes.
    public static func parallelFor(_ chunks: Int, _ body: (Int) -> Void) {
        if chunks <= 1 || count == 1 {
            for chunk in 0..<chunks { body(chunk) }
            return
        }
        // concurrentPerform wants a @Sendable closure, but it returns only after every
        // iteration has finished, so `body` never outlives this call; callers guarantee that
        // chunks write disjoint memory. Hence the unchecked box.
        withoutActuallyEscaping(body) { escapable in
            let box = UncheckedSendable(escapable)
            DispatchQueue.concurrentPerform(iterations: chunks) { box.value($0) }
        }
    }

    /// Runs `body(chunk)` for `chunk` in `0..<chunks` in parallel while OpenBLAS runs on one
    /// thread, for kernels whose parallel pieces call BLAS themselves (attention blocks): the
    /// threads come from Dispatch, never from both at once. ``BLASGate`` keeps other threads'
    /// BLAS calls out of the region, since OpenBLAS's thread count is process-wide.
    public static func parallelWithSerialBLAS(_ chunks: Int, _ body: (Int) -> Void) {
        guard chunks > 1, count > 1 else {
            parallelFor(chunks, body)
            return
        }
        configureOnce()
        BLASGate.serialRegion(restoring: count) {
            parallelFor(chunks) { chunk in BLASGate.insideRegion { body(chunk) } }
        }
    }

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

/// Carries a value across a concurrency boundary whose safety the compiler cannot see.
private struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
