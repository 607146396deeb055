import Compute
import Foundation
import Testing
import TestSupport

@Suite("NumPy .npy interchange")
struct NumPyFileTests {
    @Test("write then read returns the same tensor, for ranks 0 to 3")
    func roundTrip() throws {
        let folder = try Fixtures.temporaryDirectory()
        for tensor in [Tensor(shape: [], scalars: [3.5]), Tensor(shape: [4], scalars: [1, -2, .infinity, 0.25]),
                       Tensor(shape: [2, 3], scalars: (0..<6).map(Float.init)),
                       Tensor(shape: [1, 2, 0], scalars: [])] {
            let url = folder.appendingPathComponent("t.npy")
            try NumPyFile.write(tensor, to: url)
            #expect(try NumPyFile.read(url) == tensor)
        }
    }

    @Test("the header is version 1.0, '<f4', C order, padded to 64 bytes")
    func headerLayout() {
        let data = [UInt8](NumPyFile.encode(Tensor(shape: [2, 3], repeating: 1)))
        #expect(Array(data[0..<8]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: data[10..<10 + headerLength], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(header.hasSuffix("\n"))
        #expect(data.count == 10 + headerLength + 6 * 4)
    }

    /// compute_fixtures.py `write_numpy_dtypes`: numpy's own float64 and int64 files, and their
    /// values as JSON numbers; each element must read as the Float nearest to its value.
    @Test("float64 and int64 files written by numpy are read and converted to the nearest Float")
    func numpyWritten() throws {
        let values = try Fixtures.json([String: [[Double]]].self, "compute/numpy_dtypes/values.json")
        for dtype in ["float64", "int64"] {
            let rows = try #require(values[dtype])
            let bytes = try Data(contentsOf: Fixtures.url("compute/numpy_dtypes/\(dtype).npy"))
            #expect(String(decoding: bytes.prefix(64), as: UTF8.self).contains(dtype == "float64" ? "'<f8'" : "'<i8'"))
            let tensor = try Fixtures.tensor("compute/numpy_dtypes/\(dtype).npy")
            #expect(tensor.shape == [rows.count, rows[0].count])
            #expect(tensor.scalars == rows.joined().map { Float($0) }, "\(dtype)")
        }
    }

    @Test("malformed files are errors, never crashes")
    func malformed() {
        let valid = [UInt8](NumPyFile.encode(Tensor(shape: [3], scalars: [1, 2, 3])))
        var cases: [[UInt8]] = [[], Array("not numpy".utf8), Array(valid.prefix(9)), Array(valid.prefix(40)),
                                Array(valid.dropLast(4))]
        var fortran = valid
        if let range = String(decoding: fortran, as: UTF8.self).range(of: "False") {
            let start = String(decoding: fortran, as: UTF8.self).utf8.distance(
                from: String(decoding: fortran, as: UTF8.self).startIndex, to: range.lowerBound)
            fortran.replaceSubrange(start..<start + 5, with: Array("True ".utf8))
        }
        cases.append(fortran)
        var wrongType = valid
        wrongType.replaceSubrange(20..<23, with: Array("c16".utf8))
        cases.append(wrongType)
        for bytes in cases {
            #expect(throws: NumPyFile.Error.self) { try NumPyFile.decode(Data(bytes)) }
        }
    }
}
