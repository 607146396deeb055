/// A minimal reader for the zip archives written by `torch.save`: it lists entries and hands out
/// the byte range of stored (uncompressed) ones, without copying.
///
/// Follows the PKWARE APPNOTE (sections 4.3.6–4.3.16 and the ZIP64 records of 4.3.14–4.3.15) as
/// far as PyTorch's writer needs it (caffe2/serialize/inline_container.cc, which uses miniz with
/// `MZ_NO_COMPRESSION` and 64-byte aligned data). It reads the end-of-central-directory record
/// (and the ZIP64 one when a locator precedes it, as in multi-gigabyte U-Net checkpoints), the
/// central directory, and each entry's local header. Compressed or encrypted entries and
/// multi-disk archives are refused with ``WeightsError/unsupportedFormat(path:reason:)``; every
/// size and offset is checked against the file.
struct ZipArchive {
    /// One file in the archive.
    struct Entry {
        let name: String
        let method: UInt16
        let flags: UInt16
        let crc32: UInt32
        let compressedSize: Int
        let uncompressedSize: Int
        let localHeaderOffset: Int
        /// Where the entry's bytes lie, from its local header (set when the archive is opened).
        fileprivate(set) var data: Range<Int> = 0..<0
    }

    let file: ByteStorage
    /// Entries in central-directory order.
    let entries: [Entry]
    private let index: [String: Int]

    private static let endSignature: UInt32 = 0x0605_4B50
    private static let zip64LocatorSignature: UInt32 = 0x0706_4B50
    private static let zip64EndSignature: UInt32 = 0x0606_4B50
    private static let centralSignature: UInt32 = 0x0201_4B50
    private static let localSignature: UInt32 = 0x0403_4B50

    /// Whether `file` starts like a zip archive (`PK\3\4`, or `PK\5\6` for an empty one).
    static func looksLikeZip(_ file: ByteStorage) -> Bool {
        guard let head = try? file.bytes(0..<min(4, file.count)), head.count == 4 else { return false }
        return head == [0x50, 0x4B, 0x03, 0x04] || head == [0x50, 0x4B, 0x05, 0x06]
    }

    /// Reads the central directory of `file`.
    /// - Throws: ``WeightsError/corrupt(path:reason:)`` or ``WeightsError/unsupportedFormat(path:reason:)``.
    init(_ file: ByteStorage) throws {
        self.file = file
        let directory = try Self.centralDirectory(file)
        var cursor = ByteCursor(file, range: directory.range, context: "zip central directory")
        var entries: [Entry] = []
        var index: [String: Int] = [:]
        entries.reserveCapacity(directory.count)
        for _ in 0..<directory.count {
            var entry = try Self.readCentralEntry(&cursor)
            guard index.updateValue(entries.count, forKey: entry.name) == nil else {
                throw file.corrupt("zip entry '\(entry.name.abbreviated())' appears twice")
            }
            entry.data = try Self.localData(of: entry, in: file)
            entries.append(entry)
        }
        try Self.checkDisjoint(entries, directory: directory.range, in: file)
        self.entries = entries
        self.index = index
    }

    /// The entry called `name`, if any.
    func entry(named name: String) -> Entry? {
        index[name].map { entries[$0] }
    }

    /// The file range of a stored entry's bytes.
    /// - Throws: ``WeightsError/unsupportedFormat(path:reason:)`` for compressed or encrypted entries;
    ///   ``WeightsError/corrupt(path:reason:)`` if the local header is damaged or the data leaves the file.
    func dataRange(of entry: Entry) throws -> Range<Int> {
        guard entry.flags & 1 == 0 else {
            throw WeightsError.unsupportedFormat(path: file.name, reason: "zip entry '\(entry.name.abbreviated())' is encrypted")
        }
        guard entry.method == 0 else {
            let method = entry.method == 8 ? "deflate-compressed" : "compressed with method \(entry.method)"
            throw WeightsError.unsupportedFormat(
                path: file.name,
                reason: "zip entry '\(entry.name.abbreviated())' is \(method); only stored (uncompressed) entries, as torch.save writes them, are read. Re-save the checkpoint with torch.save or convert it to safetensors")
        }
        guard entry.compressedSize == entry.uncompressedSize else {
            throw file.corrupt("stored zip entry '\(entry.name.abbreviated())' has different compressed and uncompressed sizes")
        }
        return entry.data
    }

    /// The bytes of `entry` as its local header places them. The local header must name the
    /// same file as the central directory: readers that trust one or the other would read
    /// different archives.
    private static func localData(of entry: Entry, in file: ByteStorage) throws -> Range<Int> {
        let name = entry.name.abbreviated()
        var local = ByteCursor(file, range: entry.localHeaderOffset..<file.count, context: "zip local header of '\(name)'")
        guard try local.uint32() == localSignature else {
            throw file.corrupt("zip local header of '\(name)' has a bad signature")
        }
        try local.skip(22)
        let nameLength = Int(try local.uint16()), extraLength = Int(try local.uint16())
        guard try local.bytes(nameLength) == Array(entry.name.utf8) else {
            throw file.corrupt("zip entry '\(name)' has another name in its local header")
        }
        try local.skip(extraLength)
        return try local.take(entry.compressedSize)
    }

    /// Refuses entries whose headers and data overlap one another or the central directory
    /// (an offset pointing at another entry would hand out that entry's bytes).
    private static func checkDisjoint(_ entries: [Entry], directory: Range<Int>, in file: ByteStorage) throws {
        let spans = entries.map { (range: $0.localHeaderOffset..<$0.data.upperBound, name: $0.name) }
            .sorted { $0.range.lowerBound < $1.range.lowerBound }
        for (previous, next) in zip(spans, spans.dropFirst()) where next.range.lowerBound < previous.range.upperBound {
            throw file.corrupt("zip entries '\(previous.name.abbreviated())' and '\(next.name.abbreviated())' overlap")
        }
        for span in spans where span.range.overlaps(directory) {
            throw file.corrupt("zip entry '\(span.name.abbreviated())' overlaps the central directory")
        }
    }

    // MARK: - End of central directory

    private static func centralDirectory(_ file: ByteStorage) throws -> (range: Range<Int>, count: Int) {
        let end = try locateEnd(file)
        var cursor = ByteCursor(file, range: end..<file.count, context: "zip end of central directory")
        try cursor.skip(4)
        let disk = try cursor.uint16(), directoryDisk = try cursor.uint16()
        _ = try cursor.uint16()
        var count = Int(try cursor.uint16())
        var size = Int(try cursor.uint32())
        var offset = Int(try cursor.uint32())
        var limit = end
        if let zip64 = try zip64End(file, before: end) {
            (count, size, offset, limit) = (zip64.count, zip64.size, zip64.offset, zip64.record)
        } else {
            guard disk == 0, directoryDisk == 0 else {
                throw WeightsError.unsupportedFormat(path: file.name, reason: "multi-disk zip archives are not supported")
            }
            guard count != 0xFFFF, size != 0xFFFF_FFFF, offset != 0xFFFF_FFFF else {
                throw file.corrupt("zip end record defers to a ZIP64 record that is missing")
            }
        }
        guard offset >= 0, size >= 0, offset <= limit, size <= limit - offset else {
            throw file.corrupt("zip central directory (\(size) bytes at \(offset)) is outside the file")
        }
        guard count >= 0, count <= size / 46 else {
            throw file.corrupt("zip claims \(count) entries in a \(size)-byte central directory")
        }
        return (offset..<(offset + size), count)
    }

    /// Finds the end-of-central-directory record: the last signature whose comment ends the file,
    /// searching the final 64 KiB + 22 bytes as the comment length allows.
    private static func locateEnd(_ file: ByteStorage) throws -> Int {
        guard file.count >= 22 else { throw file.corrupt("too short for a zip archive (\(file.count) bytes)") }
        let lowest = max(0, file.count - 22 - 0xFFFF)
        let tail = try file.bytes(lowest..<file.count)
        var candidate = tail.count - 22
        while candidate >= 0 {
            if tail[candidate] == 0x50, tail[candidate + 1] == 0x4B, tail[candidate + 2] == 0x05, tail[candidate + 3] == 0x06 {
                let commentLength = Int(tail[candidate + 20]) | Int(tail[candidate + 21]) << 8
                if candidate + 22 + commentLength == tail.count { return lowest + candidate }
            }
            candidate -= 1
        }
        throw file.corrupt("no zip end-of-central-directory record")
    }

    /// The ZIP64 end record, when a ZIP64 locator sits just before the classic end record.
    private static func zip64End(_ file: ByteStorage, before end: Int) throws
        -> (count: Int, size: Int, offset: Int, record: Int)? {
        guard end >= 20 else { return nil }
        var locator = ByteCursor(file, range: (end - 20)..<end, context: "ZIP64 locator")
        guard try locator.uint32() == zip64LocatorSignature else { return nil }
        guard try locator.uint32() == 0 else {
            throw WeightsError.unsupportedFormat(path: file.name, reason: "multi-disk zip archives are not supported")
        }
        let record = try locator.length64()
        guard record <= end - 20 - 56 else { throw file.corrupt("ZIP64 end record offset \(record) is outside the file") }
        var cursor = ByteCursor(file, range: record..<(end - 20), context: "ZIP64 end record")
        guard try cursor.uint32() == zip64EndSignature else { throw file.corrupt("ZIP64 end record has a bad signature") }
        try cursor.skip(8 + 2 + 2)
        guard try cursor.uint32() == 0, try cursor.uint32() == 0 else {
            throw WeightsError.unsupportedFormat(path: file.name, reason: "multi-disk zip archives are not supported")
        }
        _ = try cursor.uint64()
        let count = try cursor.length64(), size = try cursor.length64(), offset = try cursor.length64()
        return (count, size, offset, record)
    }

    // MARK: - Central directory entries

    private static func readCentralEntry(_ cursor: inout ByteCursor) throws -> Entry {
        let file = cursor.storage
        guard try cursor.uint32() == centralSignature else { throw file.corrupt("zip central directory entry has a bad signature") }
        try cursor.skip(4)
        let flags = try cursor.uint16(), method = try cursor.uint16()
        try cursor.skip(4)
        let crc = try cursor.uint32()
        var compressed = UInt64(try cursor.uint32()), uncompressed = UInt64(try cursor.uint32())
        let nameLength = Int(try cursor.uint16()), extraLength = Int(try cursor.uint16())
        let commentLength = Int(try cursor.uint16())
        var disk = UInt64(try cursor.uint16())
        try cursor.skip(6)
        var offset = UInt64(try cursor.uint32())
        let name = String(decoding: try cursor.bytes(nameLength), as: UTF8.self)
        var extra = ByteCursor(file, range: try cursor.take(extraLength), context: "zip extra field of '\(name.abbreviated())'")
        try cursor.skip(commentLength)
        while extra.remaining >= 4 {
            let tag = try extra.uint16(), length = Int(try extra.uint16())
            var field = ByteCursor(file, range: try extra.take(length), context: "ZIP64 extra field of '\(name.abbreviated())'")
            guard tag == 0x0001 else { continue }
            // APPNOTE 4.5.3: only the values saturated in the fixed fields appear, in this order.
            if uncompressed == 0xFFFF_FFFF { uncompressed = try field.uint64() }
            if compressed == 0xFFFF_FFFF { compressed = try field.uint64() }
            if offset == 0xFFFF_FFFF { offset = try field.uint64() }
            if disk == 0xFFFF { disk = UInt64(try field.uint32()) }
        }
        guard disk == 0 else {
            throw WeightsError.unsupportedFormat(path: file.name, reason: "multi-disk zip archives are not supported")
        }
        let limit = UInt64(file.count)
        guard compressed <= limit, uncompressed <= UInt64(Int.max), offset < limit else {
            throw file.corrupt("zip entry '\(name.abbreviated())' claims sizes or an offset beyond the file")
        }
        return Entry(name: name, method: method, flags: flags, crc32: crc, compressedSize: Int(compressed),
                     uncompressedSize: Int(uncompressed), localHeaderOffset: Int(offset))
    }
}
