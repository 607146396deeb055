import Compute
import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The read-only bytes of one weight file: memory-mapped from disk, or copied from `Data`.
///
/// Every access goes through ``withBytes(_:_:)``, which checks the requested range against the
/// file size and throws ``WeightsError/corrupt(path:reason:)`` instead of reading outside it.
/// This is the only place in the module that holds a raw pointer.
///
/// Mapping (`mmap(2)`, `PROT_READ`, `MAP_PRIVATE`) lets a 3.4 GB U-Net checkpoint be opened
/// without reading it: pages are loaded when a tensor is materialised. As with any mapping, a
/// file truncated by another process while it is open makes later reads fault; weight files are
/// not expected to change under a running program.
final class ByteStorage: @unchecked Sendable {
    // @unchecked: the memory is never written after `init` and is released only in `deinit`, so
    // sharing the instance between threads is safe.
    private enum Ownership { case mapped, allocated, empty }

    /// A name for errors: the file path, or a caller-chosen label for in-memory data.
    let name: String
    /// Size in bytes.
    let count: Int
    private let base: UnsafeRawPointer?
    private let ownership: Ownership

    /// Maps the file at `url` read-only.
    /// - Throws: ``WeightsError/unreadable(path:reason:)`` if it cannot be opened or mapped, or
    ///   is not a regular file (``InputFile/openRegular(_:)``: a FIFO cannot block the open).
    init(mapping url: URL) throws {
        let path = url.path
        name = path
        let (descriptor, size): (Int32, Int)
        do { (descriptor, size) = try InputFile.openRegular(url) } catch let error as InputFile.Error {
            throw WeightsError.unreadable(path: path, reason: error.reason)
        }
        defer { close(descriptor) }
        guard size > 0 else {
            (count, base, ownership) = (0, nil, .empty)
            return
        }
        // mmap(2) returns MAP_FAILED, ((void *)-1), on failure; the macro is not imported.
        guard let pointer = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0),
              pointer != UnsafeMutableRawPointer(bitPattern: -1)
        else { throw WeightsError.unreadable(path: path, reason: "mmap failed: " + Self.lastError()) }
        (count, base, ownership) = (size, UnsafeRawPointer(pointer), .mapped)
    }

    /// Copies `data` (for in-memory checkpoints and tests); `name` labels it in errors.
    init(data: Data, name: String) {
        self.name = name
        guard !data.isEmpty else {
            (count, base, ownership) = (0, nil, .empty)
            return
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: data.count, alignment: 16)
        _ = data.copyBytes(to: buffer.bindMemory(to: UInt8.self))
        (count, base, ownership) = (data.count, UnsafeRawPointer(buffer.baseAddress), .allocated)
    }

    deinit {
        guard let base else { return }
        switch ownership {
        case .mapped: munmap(UnsafeMutableRawPointer(mutating: base), count)
        case .allocated: base.deallocate()
        case .empty: break
        }
    }

    /// Calls `body` with the bytes in `range`, after checking that `range` lies inside the file.
    /// - Throws: ``WeightsError/corrupt(path:reason:)`` when it does not; whatever `body` throws.
    func withBytes<Result>(_ range: Range<Int>,
                           _ body: (UnsafeRawBufferPointer) throws -> Result) throws -> Result {
        guard range.lowerBound >= 0, range.upperBound <= count else {
            throw WeightsError.corrupt(path: name, reason: "reads bytes \(range) of a \(count)-byte file")
        }
        guard let base, !range.isEmpty else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeRawBufferPointer(start: base + range.lowerBound, count: range.count))
    }

    /// Tells the kernel that the mapped pages wholly inside `range` will not be read again soon,
    /// so they leave this process's resident memory (they stay in the page cache). Called after a
    /// tensor is widened, so that loading a 3.4 GB checkpoint does not hold the file's pages and
    /// the Float32 copies at the same time. A no-op for in-memory storage.
    func release(_ range: Range<Int>) {
        guard ownership == .mapped, let base, range.lowerBound >= 0, range.upperBound <= count else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        guard start < end else { return }
        madvise(UnsafeMutableRawPointer(mutating: base + start), end - start, Int32(MADV_DONTNEED))
    }

    /// A copy of the bytes in `range`.
    func bytes(_ range: Range<Int>) throws -> [UInt8] {
        try withBytes(range) { Array($0) }
    }

    /// The error of a `corrupt` file named after this storage.
    func corrupt(_ reason: String) -> WeightsError {
        .corrupt(path: name, reason: reason)
    }

    private static func lastError() -> String { String(cString: strerror(errno)) }
}
