import Compute

/// Where one tensor's elements lie in a file, and how to widen them to a ``Tensor``.
///
/// A tensor is a strided view of a storage: element `[i₀, i₁, …]` is at storage index
/// `offset + Σ iₖ·strides[k]`, exactly as PyTorch's `as_strided` (torch/_utils.py
/// `_rebuild_tensor_v2` restores `storage_offset`, `size` and `stride`). Safetensors entries are
/// the contiguous case with offset 0. The initializer validates the view against the storage's
/// byte range, so ``materialize(from:)`` can never read outside it.
struct StoredTensor: Sendable {
    /// Highest rank accepted; PyTorch itself allows 64 dimensions.
    static let maxRank = 64
    /// A view may address more elements than its storage holds only through broadcast (zero) or
    /// overlapping strides; such views are refused beyond this many elements, so a few edited
    /// bytes cannot make a small file expand into terabytes.
    static let broadcastLimit = 1 << 24

    let dtype: ScalarType
    let shape: [Int]
    let strides: [Int]
    /// Offset of the first element, in elements from the start of the storage.
    let offset: Int
    /// The storage's bytes in the file.
    let storage: Range<Int>
    /// Number of elements (product of `shape`).
    let count: Int

    /// Validates a view.
    /// - Parameters:
    ///   - strides: in elements; `nil` means contiguous row-major.
    ///   - offset: first element, in elements from the start of `storage`.
    ///   - storage: the byte range holding the whole storage.
    ///   - key: names the tensor in errors; `file` names the file.
    /// - Throws: ``WeightsError/corrupt(path:reason:)`` if any element would fall outside `storage`
    ///   or the numbers are absurd.
    init(dtype: ScalarType, shape: [Int], strides: [Int]?, offset: Int, storage: Range<Int>,
         key: String, file: String) throws {
        func fail(_ reason: String) -> WeightsError { .corrupt(path: file, reason: "tensor '\(key)': \(reason)") }
        guard shape.count <= Self.maxRank else { throw fail("rank \(shape.count) is absurd") }
        guard shape.allSatisfy({ $0 >= 0 }) else { throw fail("negative dimension in \(shape)") }
        let strides = strides ?? Self.contiguousStrides(shape)
        guard strides.count == shape.count else { throw fail("shape \(shape) with strides \(strides)") }
        guard strides.allSatisfy({ $0 >= 0 }), offset >= 0 else { throw fail("negative stride or offset") }
        guard let count = Self.product(shape), count <= Int(Int32.max) else { throw fail("shape \(shape) is absurd") }

        let available = storage.count / dtype.byteCount
        if count > 0 {
            var last = offset
            for (size, stride) in zip(shape, strides) {
                let (step, overflow1) = (size - 1).multipliedReportingOverflow(by: stride)
                let (sum, overflow2) = last.addingReportingOverflow(step)
                guard !overflow1, !overflow2 else { throw fail("strides \(strides) overflow") }
                last = sum
            }
            guard last < available else {
                throw fail("view (offset \(offset), shape \(shape), strides \(strides)) reaches element \(last) of a \(available)-element storage")
            }
            guard count <= available || count <= Self.broadcastLimit else {
                throw fail("a \(count)-element view of a \(available)-element storage is absurd")
            }
        }
        (self.dtype, self.shape, self.strides, self.offset, self.storage, self.count)
            = (dtype, shape, strides, offset, storage, count)
    }

    /// The product of `values`, or `nil` on overflow.
    static func product(_ values: [Int]) -> Int? {
        var result = 1
        for value in values {
            let (next, overflow) = result.multipliedReportingOverflow(by: value)
            if overflow { return nil }
            result = next
        }
        return result
    }

    /// Row-major strides of `shape`, in elements.
    static func contiguousStrides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var stride = 1
        for axis in shape.indices.reversed() {
            strides[axis] = stride
            stride = stride &* max(shape[axis], 1)
        }
        return strides
    }

    /// Whether the view is the row-major layout of its shape.
    var isContiguous: Bool {
        zip(zip(shape, strides), Self.contiguousStrides(shape)).allSatisfy { $0.0 <= 1 || $0.1 == $1 }
    }

    /// Elements per piece of a contiguous tensor, the pieces widened on ``ComputeThreads`` (4 MB of
    /// float32): loading is mostly the first touch of the copies' fresh pages, which the kernel
    /// zeroes on the faulting thread, so a large tensor is written by every thread at once.
    static let piece = 1 << 20

    /// Reads the elements, widened to Float32, into a contiguous row-major tensor.
    /// - Returns: a tensor of shape `shape`.
    /// - Throws: ``WeightsError/corrupt(path:reason:)`` if the storage is not inside the file.
    /// - Complexity: O(count); contiguous float32 tensors are a single copy. Every element is
    ///   written once (the copy is not zero-filled first), a contiguous tensor's pieces in parallel.
    func materialize(from file: ByteStorage) throws -> Tensor {
        let scalars = try [Float](unsafeUninitializedCapacity: count) { output, initialized in
            guard let destination = output.baseAddress else { return }
            try file.withBytes(storage) { raw in
                if isContiguous {
                    ComputeThreads.parallelFor((count + Self.piece - 1) / Self.piece) { index in
                        let first = index * Self.piece, length = Swift.min(Self.piece, count - first)
                        Self.widen(raw, dtype, start: offset + first, stride: 1, count: length, into: destination + first)
                    }
                } else {
                    widenStrided(raw, into: destination)
                }
            }
            initialized = count
        }
        file.release(storage)
        return Tensor(shape: shape, scalars: scalars)
    }

    /// Walks the view in row-major order, one innermost run at a time.
    private func widenStrided(_ raw: UnsafeRawBufferPointer, into destination: UnsafeMutablePointer<Float>) {
        let rank = shape.count
        guard rank > 0 else { return Self.widen(raw, dtype, start: offset, stride: 1, count: 1, into: destination) }
        let runLength = shape[rank - 1], runStride = strides[rank - 1]
        var index = [Int](repeating: 0, count: rank - 1)
        var written = 0
        while written < count {
            var start = offset
            for axis in 0..<(rank - 1) { start += index[axis] * strides[axis] }
            Self.widen(raw, dtype, start: start, stride: runStride, count: runLength, into: destination + written)
            written += runLength
            var axis = rank - 2
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
    }

    /// Converts `count` elements at storage indices `start, start+stride, …` of `raw`.
    /// The caller has checked that every index is inside `raw` (see `init`).
    private static func widen(_ raw: UnsafeRawBufferPointer, _ dtype: ScalarType, start: Int, stride: Int,
                              count: Int, into destination: UnsafeMutablePointer<Float>) {
        let size = dtype.byteCount
        @inline(__always)
        func convert<T: FixedWidthInteger>(_: T.Type, _ transform: (T) -> Float) {
            for element in 0..<count {
                let bits = raw.loadUnaligned(fromByteOffset: (start + element * stride) * size, as: T.self)
                destination[element] = transform(T(littleEndian: bits))
            }
        }
        switch dtype {
        case .float32:
            if stride == 1, let source = raw.baseAddress {
                // Contiguous float32: one copy (both sides are little-endian IEEE binary32).
                UnsafeMutableRawPointer(destination).copyMemory(from: source + start * 4, byteCount: count * 4)
            } else {
                convert(UInt32.self) { Float(bitPattern: $0) }
            }
        case .float16: convert(UInt16.self) { Float(Float16(bitPattern: $0)) }
        case .bfloat16: convert(UInt16.self) { Float(bitPattern: UInt32($0) << 16) }
        case .float64: convert(UInt64.self) { Float(Double(bitPattern: $0)) }
        case .int64: convert(Int64.self) { Float($0) }
        case .int32: convert(Int32.self) { Float($0) }
        case .int16: convert(Int16.self) { Float($0) }
        case .int8: convert(Int8.self) { Float($0) }
        case .uint8: convert(UInt8.self) { Float($0) }
        case .bool: convert(UInt8.self) { $0 == 0 ? 0 : 1 }
        }
    }
}
