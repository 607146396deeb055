import Foundation

/// Reusable scratch memory for kernels (im2col columns, Winograd's transformed matrices, packed
/// convolution weights), so that a denoising step does not map, fault in and zero fresh pages for its
/// temporaries every time, nor leave them in whichever heap arena a worker thread has.
///
/// Buffers are handed out under a lock and returned after use; a buffer is reused when it is
/// large enough. Contents are undefined on entry: kernels overwrite what they read.
final class Workspace: @unchecked Sendable {
    // @unchecked: `free` is only touched under `lock`; a lent buffer belongs to one caller.
    /// The process-wide pool.
    static let shared = Workspace()

    private let lock = NSLock()
    private var free: [UnsafeMutableBufferPointer<Float>] = []

    /// Runs `body` with at least `count` floats of scratch memory.
    func withScratch<Result>(count: Int, _ body: (UnsafeMutableBufferPointer<Float>) throws -> Result) rethrows -> Result {
        let buffer = take(count)
        defer { give(buffer) }
        return try body(UnsafeMutableBufferPointer(rebasing: buffer[0..<count]))
    }

    private func take(_ count: Int) -> UnsafeMutableBufferPointer<Float> {
        lock.lock()
        defer { lock.unlock() }
        if let index = free.firstIndex(where: { $0.count >= count }) { return free.remove(at: index) }
        if !free.isEmpty {  // replace the largest smaller buffer rather than growing the pool
            let smaller = free.removeLast()
            smaller.deallocate()
        }
        // Not zero-filled: every user writes what it reads, and a fill of tens of megabytes each
        // time a convolution's request outgrows the pool was 0.6 % of a U-Net step.
        let capacity = max(count, 1)
        let bytes = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Float>.stride,
                                                     alignment: MemoryLayout<Float>.alignment)
        return UnsafeMutableBufferPointer(start: bytes.bindMemory(to: Float.self, capacity: capacity), count: capacity)
    }

    private func give(_ buffer: UnsafeMutableBufferPointer<Float>) {
        lock.lock()
        defer { lock.unlock() }
        free.append(buffer)
        free.sort { $0.count < $1.count }
    }
}
