/// A bounds-checked, little-endian reader moving through a region of a ``ByteStorage``.
///
/// Used for every structure the readers parse (zip records, pickle opcodes, the safetensors
/// header length). A read past the region's end throws ``WeightsError/corrupt(path:reason:)``
/// naming `context`, so truncated files fail with a message rather than a fault. Offsets are
/// checked with overflow-reporting arithmetic because release builds use `-Ounchecked`.
struct ByteCursor {
    let storage: ByteStorage
    /// Where the region ends (exclusive), in file offsets.
    let end: Int
    /// What is being read, for error messages (e.g. "zip central directory").
    let context: String
    /// The file offset of the next byte.
    private(set) var position: Int

    /// A cursor over `range` of `storage` (clamped to the file).
    init(_ storage: ByteStorage, range: Range<Int>, context: String) {
        self.storage = storage
        self.context = context
        let lower = min(max(range.lowerBound, 0), storage.count)
        position = lower
        end = max(lower, min(range.upperBound, storage.count))
    }

    /// Bytes left in the region.
    var remaining: Int { end - position }

    /// Whether the region is exhausted.
    var isAtEnd: Bool { position >= end }

    /// The file range of the next `count` bytes, after checking that they are in the region.
    mutating func take(_ count: Int) throws -> Range<Int> {
        guard count >= 0, count <= remaining else {
            throw storage.corrupt("\(context) is truncated: needs \(count) bytes at offset \(position), \(max(remaining, 0)) left")
        }
        let range = position..<(position + count)
        position += count
        return range
    }

    /// Skips `count` bytes.
    mutating func skip(_ count: Int) throws { _ = try take(count) }

    /// Moves to an absolute file offset inside the region.
    mutating func seek(to offset: Int) throws {
        guard offset >= 0, offset <= end else {
            throw storage.corrupt("\(context): offset \(offset) is outside the file")
        }
        position = offset
    }

    mutating func bytes(_ count: Int) throws -> [UInt8] { try storage.bytes(take(count)) }

    mutating func uint8() throws -> UInt8 { try integer(UInt8.self) }
    mutating func uint16() throws -> UInt16 { try integer(UInt16.self) }
    mutating func uint32() throws -> UInt32 { try integer(UInt32.self) }
    mutating func uint64() throws -> UInt64 { try integer(UInt64.self) }
    mutating func int32() throws -> Int32 { try integer(Int32.self) }

    /// The next `UInt64` as an `Int`, refusing values above `Int.max`.
    mutating func length64() throws -> Int {
        let value = try uint64()
        guard value <= UInt64(Int.max) else { throw storage.corrupt("\(context): absurd length \(value)") }
        return Int(value)
    }

    private mutating func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let range = try take(MemoryLayout<T>.size)
        return try storage.withBytes(range) { T(littleEndian: $0.loadUnaligned(as: T.self)) }
    }
}
