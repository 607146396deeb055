import Compute
import Foundation

/// A PyTorch checkpoint written by `torch.save` (`.bin`, `.pt`, `.pth`, `.ckpt`), opened without
/// executing any of it.
///
/// Matches the zip layout written by `torch.save` (torch/serialization.py `_save`, PyTorch ≥ 1.6):
/// `<archive>/data.pkl` holds the pickled object, in which every tensor is
/// `_rebuild_tensor_v2(storage, offset, size, stride, …)` and every storage a persistent id whose
/// bytes are the stored entry `<archive>/data/<key>`. The pickle is read by the restricted
/// ``Unpickler`` (only state-dict opcodes and an allow-list of globals, so opening a file never
/// runs code from it), after its CRC-32 is checked. The older non-zip format of
/// `_use_new_zipfile_serialization=False` (`_legacy_save`) is read too; the pre-0.4 tar format is
/// refused with ``WeightsError/legacyTorchFormat(path:)``.
///
/// The file is memory-mapped and each tensor is read when asked for, honouring its storage
/// offset, strides and dtype and widened to Float32. Checkpoints that wrap their state dict
/// (`{"generator": state_dict, "steps": 5}`) are navigated with `keyPath`, or automatically
/// when exactly one dictionary in them holds tensors; ``root`` exposes everything else.
///
/// ```swift
/// let vocoder = try TorchCheckpoint(url: folder.appending(path: "vocoder/pytorch_model.bin"))
/// let conv = try vocoder.tensor("conv_pre.weight_v")   // [512, 256, 7]
/// ```
public struct TorchCheckpoint: WeightStore, StoredTensorFile {
    /// The file path, or the name given to in-memory data.
    public let path: String
    /// The whole unpickled object, for metadata beside the tensors (e.g. `root["epoch"]`).
    public let root: PickleValue
    /// Where the state dict sits in ``root`` (`[]` for a plain state dict).
    public let keyPath: [String]
    /// Names of the tensors in the state dict, in file order. Entries of the dict that are not
    /// tensors (numbers, strings) are left out; they remain visible through ``root``.
    public let keys: [String]
    let file: ByteStorage
    let entries: [String: StoredTensor]

    /// The element type stored for `key`, before widening.
    public func dtype(of key: String) throws -> ScalarType { try storedDType(of: key) }

    /// Maps and validates the checkpoint at `url`.
    /// - Parameter keyPath: string keys leading from the pickled object to the state dict; `nil`
    ///   selects the root if it holds tensors, else the only nested dictionary that does.
    /// - Throws: any ``WeightsError``; never executes code from the file.
    public init(url: URL, keyPath: [String]? = nil) throws {
        try self.init(storage: ByteStorage(mapping: url), keyPath: keyPath)
    }

    /// Validates a checkpoint held in memory; `name` labels it in errors.
    public init(data: Data, name: String = "<memory>", keyPath: [String]? = nil) throws {
        try self.init(storage: ByteStorage(data: data, name: name), keyPath: keyPath)
    }

    init(storage: ByteStorage, keyPath: [String]?) throws {
        let contents: (root: PickleValue, storages: StorageTable)
        if ZipArchive.looksLikeZip(storage) {
            contents = try Self.readZip(storage)
        } else if try storage.bytes(0..<min(1, storage.count)) == [0x80] {
            contents = try Self.readLegacy(storage)
        } else if storage.count >= 262, try storage.bytes(257..<262) == Array("ustar".utf8) {
            throw WeightsError.legacyTorchFormat(path: storage.name)
        } else {
            throw storage.corrupt("neither a torch.save zip archive nor a pickle")
        }
        let selected = try Self.selectStateDict(in: contents.root, keyPath: keyPath, path: storage.name)
        var names: [String] = []
        var entries: [String: StoredTensor] = [:]
        for entry in selected.entries {
            guard case .string(let name) = entry.key, case .tensor(let tensor) = entry.value else { continue }
            let bytes = try contents.storages.range(of: tensor.storage, file: storage)
            entries[name] = try StoredTensor(dtype: tensor.storage.dtype, shape: tensor.shape, strides: tensor.strides,
                                             offset: tensor.storageOffset, storage: bytes, key: name, file: storage.name)
            names.append(name)
        }
        (file, path, root) = (storage, storage.name, contents.root)
        (self.keyPath, keys, self.entries) = (selected.keyPath, names, entries)
    }

    // MARK: - Zip layout

    private static func readZip(_ storage: ByteStorage) throws -> (root: PickleValue, storages: StorageTable) {
        let archive = try ZipArchive(storage)
        let pickles = archive.entries.filter {
            let parts = $0.name.split(separator: "/", omittingEmptySubsequences: false)
            return parts.count == 2 && parts[1] == "data.pkl"
        }
        guard let pickle = pickles.first else {
            throw storage.corrupt("the zip archive has no <archive>/data.pkl, so torch.save did not write it")
        }
        guard pickles.count == 1 else { throw storage.corrupt("the zip archive holds several data.pkl records") }
        let prefix = String(pickle.name.dropLast("data.pkl".count))
        if let order = archive.entry(named: prefix + "byteorder") {
            let text = String(decoding: try storage.bytes(archive.dataRange(of: order)), as: UTF8.self)
            guard text == "little" else {
                throw WeightsError.unsupportedFormat(path: storage.name, reason: "byte order '\(text)'; only little-endian checkpoints are read")
            }
        }
        let range = try archive.dataRange(of: pickle)
        guard try storage.withBytes(range, CRC32.checksum) == pickle.crc32 else {
            throw storage.corrupt("\(pickle.name) fails its CRC-32 check")
        }
        let root = try Unpickler.load(storage, range: range, context: pickle.name).value
        var ranges: [String: Range<Int>] = [:]
        for entry in archive.entries where entry.name.hasPrefix(prefix + "data/") {
            ranges[String(entry.name.dropFirst(prefix.count + 5))] = try archive.dataRange(of: entry)
        }
        return (root, StorageTable(ranges: ranges, recordPrefix: prefix + "data/"))
    }

    // MARK: - Choosing the state dict

    /// The dict of tensors at `keyPath`, or the one found automatically.
    static func selectStateDict(in root: PickleValue, keyPath: [String]?, path: String) throws
        -> (keyPath: [String], entries: [PickleValue.DictEntry]) {
        if let keyPath {
            guard let entries = root.value(at: keyPath)?.dictEntries else {
                throw WeightsError.stateDictNotFound(path: path, keyPath: keyPath)
            }
            return (keyPath, entries)
        }
        if let entries = root.dictEntries, entries.isEmpty || entries.contains(where: { $0.value.tensorValue != nil }) {
            return ([], entries)
        }
        var candidates: [[String]] = []
        collectTensorDicts(in: root, at: [], into: &candidates)
        guard let only = candidates.first, let entries = root.value(at: only)?.dictEntries else {
            throw WeightsError.stateDictNotFound(path: path, keyPath: [])
        }
        guard candidates.count == 1 else { throw WeightsError.ambiguousStateDict(path: path, candidates: candidates) }
        return (only, entries)
    }

    /// Key paths of the dicts (below `value`, reached through string keys) that hold a tensor.
    private static func collectTensorDicts(in value: PickleValue, at keyPath: [String], into result: inout [[String]]) {
        guard let entries = value.dictEntries, keyPath.count <= 8 else { return }
        if !keyPath.isEmpty, entries.contains(where: { $0.value.tensorValue != nil }) {
            result.append(keyPath)
        }
        for entry in entries {
            if case .string(let key) = entry.key { collectTensorDicts(in: entry.value, at: keyPath + [key], into: &result) }
        }
    }
}

/// Where each storage of a checkpoint lies in its file.
struct StorageTable {
    /// Byte ranges by storage key.
    let ranges: [String: Range<Int>]
    /// Prefix of the record names, for error messages (`"archive/data/"`, or empty).
    let recordPrefix: String

    /// The bytes of `storage`, after checking that the record exists and holds all its elements.
    func range(of storage: PickleStorage, file: ByteStorage) throws -> Range<Int> {
        guard let range = ranges[storage.key] else {
            throw file.corrupt("storage record '\(recordPrefix)\(storage.key)' is missing")
        }
        let (needed, overflow) = storage.count.multipliedReportingOverflow(by: storage.dtype.byteCount)
        guard !overflow, needed <= range.count else {
            throw file.corrupt("storage record '\(recordPrefix)\(storage.key)' holds \(range.count) bytes; \(storage.count) \(storage.dtype) elements need more")
        }
        return range.lowerBound..<(range.lowerBound + needed)
    }
}
