import COpenBLAS
import Foundation

/// Keeps OpenBLAS's process-wide thread count from changing under a BLAS call in flight.
///
/// Kernels whose parallel pieces call BLAS themselves (attention blocks) switch OpenBLAS to one
/// thread for the duration (``ComputeThreads/parallelWithSerialBLAS(_:_:)``). If another thread
/// were inside a multi-threaded GEMM at that moment, OpenBLAS's worker count would change
/// mid-call. So every BLAS call holds a shared (read) lock and a switch holds the exclusive
/// (write) lock; the pieces of a serial region, which run while their region holds the write
/// lock, are marked with a thread-specific flag and call BLAS without locking.
enum BLASGate {
    // Unsafe pointers because pthread objects must not move; they live for the whole process.
    nonisolated(unsafe) private static let lock: UnsafeMutablePointer<pthread_rwlock_t> = {
        let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
        pthread_rwlock_init(lock, nil)
        return lock
    }()

    nonisolated(unsafe) private static let regionKey: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()

    nonisolated(unsafe) private static let marker = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 1)

    /// Runs one BLAS call (or a group of them) with the thread count held steady.
    static func call<Result>(_ body: () -> Result) -> Result {
        if pthread_getspecific(regionKey) != nil { return body() }
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return body()
    }

    /// Runs `region` with OpenBLAS on one thread and no other BLAS call in flight, then restores
    /// `threads`. Each piece of work the region runs must go through ``insideRegion(_:)``.
    static func serialRegion(restoring threads: Int, _ region: () -> Void) {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        openblas_set_num_threads(1)
        defer { openblas_set_num_threads(Int32(threads)) }
        region()
    }

    /// Runs one piece of a serial region, marking its thread so its BLAS calls skip the lock
    /// the region already holds.
    static func insideRegion(_ piece: () -> Void) {
        let previous = pthread_getspecific(regionKey)
        pthread_setspecific(regionKey, marker)
        defer { pthread_setspecific(regionKey, previous) }
        piece()
    }
}
