/// The non-zip format written by `torch.save(…, _use_new_zipfile_serialization=False)`
/// (torch/serialization.py `_legacy_save`): five pickles in a row — the magic number
/// 0x1950a86a20f9469cfc6c, the protocol version 1001, a `sys_info` dict, the object itself and
/// the sorted list of storage keys — followed, for each key in that order, by the storage's
/// element count as a little-endian `Int64` and its raw bytes.
extension TorchCheckpoint {
    /// `0x1950a86a20f9469cfc6c` as the little-endian bytes of pickle `LONG1`.
    private static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]

    static func readLegacy(_ storage: ByteStorage) throws -> (root: PickleValue, storages: StorageTable) {
        var offset = 0
        func next(_ context: String) throws -> PickleValue {
            let (value, end) = try Unpickler.load(storage, range: offset..<storage.count, context: context)
            offset = end
            return value
        }
        guard try next("legacy magic number") == .bigInt(legacyMagic) else {
            throw storage.corrupt("a pickle without the torch.save magic number; only checkpoints written by torch.save are read")
        }
        let version = try next("legacy protocol version")
        guard version == .int(1001) else {
            throw WeightsError.unsupportedFormat(path: storage.name, reason: "legacy serialization protocol \(version)")
        }
        guard try next("legacy sys_info")["little_endian"] == .bool(true) else {
            throw WeightsError.unsupportedFormat(path: storage.name, reason: "saved on a big-endian machine")
        }
        let root = try next("legacy data pickle")
        guard let keys = try next("legacy storage keys").elements else {
            throw storage.corrupt("the legacy storage key list is not a list")
        }
        var dtypes: [String: ScalarType] = [:]
        collectStorages(in: root, into: &dtypes)

        var cursor = ByteCursor(storage, range: offset..<storage.count, context: "legacy storage data")
        var ranges: [String: Range<Int>] = [:]
        for key in keys {
            guard case .string(let key) = key else { throw storage.corrupt("a legacy storage key is not a string") }
            guard let dtype = dtypes[key] else { throw storage.corrupt("legacy storage '\(key)' is not used by any tensor") }
            let count = try cursor.length64()
            let (bytes, overflow) = count.multipliedReportingOverflow(by: dtype.byteCount)
            guard !overflow else { throw storage.corrupt("legacy storage '\(key)' claims \(count) elements") }
            ranges[key] = try cursor.take(bytes)
        }
        return (root, StorageTable(ranges: ranges, recordPrefix: ""))
    }

    /// The dtype of every storage referenced in `value`.
    private static func collectStorages(in value: PickleValue, into dtypes: inout [String: ScalarType]) {
        switch value {
        case .tensor(let tensor): dtypes[tensor.storage.key] = tensor.storage.dtype
        case .storage(let storage): dtypes[storage.key] = storage.dtype
        case .list(let values), .tuple(let values):
            for element in values { collectStorages(in: element, into: &dtypes) }
        case .dict(let entries):
            for entry in entries {
                collectStorages(in: entry.key, into: &dtypes)
                collectStorages(in: entry.value, into: &dtypes)
            }
        default: break
        }
    }
}
