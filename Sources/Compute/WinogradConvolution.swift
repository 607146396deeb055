/// 3×3, stride-1 convolutions by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray,
/// "Fast Algorithms for Convolutional Neural Networks", 2015).
///
/// Each 2×2 output tile is computed from a 4×4 input tile in the transformed domain with 16
/// multiplies instead of 36, so the GEMMs, where a U-Net or a VAE spends its time, do 2.25×
/// fewer operations than im2col's. In matrices: the weights become `U = G g Gᵀ` (16 matrices
/// `[O, C]`), a band of input tiles `V = Bᵀ d B` (16 matrices `[C, tiles]`), the 16 products
/// `M = U · V` run in OpenBLAS, and the outputs are `Y = Aᵀ m A`. The transforms only add and
/// halve, so the result differs from the direct sum by rounding alone (relative error ~1e-7).
///
/// The buffers are raw pointers because the transforms gather and scatter 16 strided streams
/// per tile; bounds are fixed by the shapes checked in ``Convolution/conv2d(_:weight:bias:stride:padding:dilation:strategy:)``.
public enum WinogradConvolution {
    /// Fewer output positions (batch × plane) than this go through im2col: the weight transform
    /// would cost more than the saved multiplies.
    public static let minimumPositions = 256

    /// Largest block of transformed weights, in floats (16 MB).
    static let weightBudget = 4 << 20

    /// Whether a convolution can and should take this path.
    static func applies(kernel: (height: Int, width: Int), stride: Int, dilation: Int, positions: Int) -> Bool {
        kernel == (3, 3) && stride == 1 && dilation == 1 && positions >= minimumPositions
    }

    /// `F.conv2d(input, weight, bias, padding: padding)` for a `[O, C, 3, 3]` weight; `size` is the
    /// output plane.
    static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, padding: Int,
                       output size: (height: Int, width: Int)) -> Tensor {
        let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let outputs = weight.shape[0]
        let geometry = TileGeometry(batch: batch, inputHeight: height, inputWidth: width, padding: padding,
                                    outputHeight: size.height, outputWidth: size.width)
        // Blocks of output channels, so that the transformed weights stay under `weightBudget`
        // (the U-Net's 2560 → 1280 convolutions would need 210 MB at once), and bands of tile
        // rows, so that V and M stay under the im2col budget (the VAE decoder's 256 × 1024
        // planes would need 16 × 128 × 65 536 floats for V alone).
        let blockCount = (16 * outputs * channels + weightBudget - 1) / weightBudget
        let blockSize = (outputs + blockCount - 1) / blockCount
        let rowsPerBand = Swift.max(1, Swift.min(geometry.totalTileRows,
                                                 Convolution.columnBudget / (16 * (channels + blockSize) * geometry.tileColumns)))
        let bandCapacity = rowsPerBand * geometry.tileColumns
        let count = batch * outputs * size.height * size.width
        let scalars = [Float](unsafeUninitializedCapacity: count) { y, initialized in
            input.scalars.withUnsafeBufferPointer { x in
                Workspace.shared.withScratch(count: 16 * skewedSize(blockSize * channels)) { u in
                    Workspace.shared.withScratch(count: 16 * skewedSize(channels * bandCapacity)) { v in
                        Workspace.shared.withScratch(count: 16 * skewedSize(blockSize * bandCapacity)) { m in
                            // Bands outside, blocks inside: every input tile is transformed once.
                            // The weights are transformed once per band and block, and a
                            // convolution needs several of either only at the top level (bands of
                            // 320 channels: one block) or at the deep ones (blocks of 1280: one band).
                            var firstRow = 0
                            while firstRow < geometry.totalTileRows {
                                let rows = firstRow..<Swift.min(geometry.totalTileRows, firstRow + rowsPerBand)
                                let tiles = rows.count * geometry.tileColumns
                                let inputStride = skewedSize(channels * tiles)
                                transformInput(x, channels: channels, rows: rows, geometry: geometry, into: v)
                                for firstOutput in Swift.stride(from: 0, to: outputs, by: blockSize) {
                                    let block = firstOutput..<Swift.min(outputs, firstOutput + blockSize)
                                    let weightStride = skewedSize(block.count * channels), productStride = skewedSize(block.count * tiles)
                                    transformWeights(weight, outputs: block, into: u)
                                    for k in 0..<16 {
                                        // [O, C] · [C, tiles] -> [O, tiles], for each of the 16 tile positions
                                        BLAS.sgemm(m: block.count, n: tiles, k: channels,
                                                   a: UnsafeBufferPointer(rebasing: u[k * weightStride..<k * weightStride + block.count * channels]),
                                                   lda: channels,
                                                   b: UnsafeBufferPointer(rebasing: v[k * inputStride..<k * inputStride + channels * tiles]),
                                                   ldb: tiles,
                                                   c: UnsafeMutableBufferPointer(rebasing: m[k * productStride..<k * productStride + block.count * tiles]),
                                                   ldc: tiles)
                                    }
                                    transformOutput(m, outputs: block, of: outputs, bias: bias, rows: rows, geometry: geometry, into: y)
                                }
                                firstRow = rows.upperBound
                            }
                        }
                    }
                }
            }
            initialized = count
        }
        return Tensor(shape: [batch, outputs, size.height, size.width], scalars: scalars)
    }

    /// Where the 2×2 output tiles lie. Tile rows of all batch items are numbered together
    /// (`item · tileRows + row`), so a band may span items and small planes fill a GEMM.
    struct TileGeometry {
        let batch, inputHeight, inputWidth, padding, outputHeight, outputWidth: Int
        var tileRows: Int { (outputHeight + 1) / 2 }
        var tileColumns: Int { (outputWidth + 1) / 2 }
        var totalTileRows: Int { batch * tileRows }
    }

    /// `U[k][o − first][c] = (G g G^T)[k]` for `o` in `block`, with
    /// `G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]`.
    private static func transformWeights(_ weight: Tensor, outputs block: Range<Int>, into u: UnsafeMutableBufferPointer<Float>) {
        let channels = weight.shape[1]
        weight.scalars.withUnsafeBufferPointer { g in
            ComputeThreads.parallelRanges(block.count) { range in
                for local in range {
                    let o = block.lowerBound + local
                    for c in 0..<channels {
                        let base = (o * channels + c) * 9
                        // G g, on the kernel's rows (SIMD4 with a zero 4th lane), then (G g) Gᵀ on each row
                        let r0 = SIMD4(g[base], g[base + 1], g[base + 2], 0)
                        let r1 = SIMD4(g[base + 3], g[base + 4], g[base + 5], 0)
                        let r2 = SIMD4(g[base + 6], g[base + 7], g[base + 8], 0)
                        store(r0, row: 0)
                        store((r0 + r1 + r2) * 0.5, row: 1)
                        store((r0 - r1 + r2) * 0.5, row: 2)
                        store(r2, row: 3)
                        func store(_ t: SIMD4<Float>, row i: Int) {
                            let step = skewedSize(block.count * channels), target = 4 * i * step + local * channels + c
                            u[target] = t.x
                            u[target + step] = (t.x + t.y + t.z) * 0.5
                            u[target + 2 * step] = (t.x - t.y + t.z) * 0.5
                            u[target + 3 * step] = t.z
                        }
                    }
                }
            }
        }
    }

    /// `V[k][c][tile] = (Bᵀ d B)[k]` with `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]`,
    /// `d` the 4×4 input patch of the tile, zero outside the image (the padding). Tiles go 8 at
    /// a time, one per SIMD lane.
    private static func transformInput(_ x: UnsafeBufferPointer<Float>, channels: Int, rows: Range<Int>,
                                       geometry: TileGeometry, into v: UnsafeMutableBufferPointer<Float>) {
        let (height, width, columns) = (geometry.inputHeight, geometry.inputWidth, geometry.tileColumns)
        let tiles = rows.count * columns, stride = skewedSize(channels * tiles)
        guard let source = x.baseAddress, let destination = v.baseAddress else { return }
        ComputeThreads.parallelRanges(channels) { range in
            for c in range {
                for row in rows {
                    let (item, tileRow) = row.quotientAndRemainder(dividingBy: geometry.tileRows)
                    let plane = source + (item * channels + c) * height * width
                    let top = 2 * tileRow - geometry.padding
                    let out = destination + c * tiles + (row - rows.lowerBound) * columns
                    for first in Swift.stride(from: 0, to: columns, by: 8) {
                        let count = Swift.min(8, columns - first), left = 2 * first - geometry.padding
                        // Lane l holds tile first + l; its patch column j is input column left + 2l + j.
                        let contiguous = count == 8 && left >= 0 && left + 18 <= width
                        func patchRow(_ r: Int) -> Columns {
                            let y = top + r
                            guard y >= 0 && y < height else { return Columns() }
                            let line = plane + y * width
                            if contiguous {
                                let even = UnsafeRawPointer(line + left).loadUnaligned(as: SIMD16<Float>.self)
                                let shifted = UnsafeRawPointer(line + left + 2).loadUnaligned(as: SIMD16<Float>.self)
                                return Columns(even.evenHalf, even.oddHalf, shifted.evenHalf, shifted.oddHalf)
                            }
                            var patch = Columns()
                            for lane in 0..<count {
                                for j in 0..<4 where left + 2 * lane + j >= 0 && left + 2 * lane + j < width {
                                    patch[j][lane] = line[left + 2 * lane + j]
                                }
                            }
                            return patch
                        }
                        let (d0, d1, d2, d3) = (patchRow(0), patchRow(1), patchRow(2), patchRow(3))
                        storeRow(d0 - d2, 0)
                        storeRow(d1 + d2, 1)
                        storeRow(d2 - d1, 2)
                        storeRow(d1 - d3, 3)
                        func storeRow(_ t: Columns, _ i: Int) {
                            let target = out + 4 * i * stride + first
                            store(t[0] - t[2], count: count, at: target)
                            store(t[1] + t[2], count: count, at: target + stride)
                            store(t[2] - t[1], count: count, at: target + 2 * stride)
                            store(t[1] - t[3], count: count, at: target + 3 * stride)
                        }
                    }
                }
            }
        }
    }

    /// `Y = Aᵀ m A` with `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]`, plus the bias, written to the
    /// tile's 2×2 outputs that lie inside the plane. Tiles go 8 at a time, one per SIMD lane.
    private static func transformOutput(_ m: UnsafeMutableBufferPointer<Float>, outputs block: Range<Int>, of outputs: Int,
                                        bias: Tensor?, rows: Range<Int>, geometry: TileGeometry,
                                        into y: UnsafeMutableBufferPointer<Float>) {
        let (height, width, columns) = (geometry.outputHeight, geometry.outputWidth, geometry.tileColumns)
        let tiles = rows.count * columns, stride = skewedSize(block.count * tiles)
        guard let source = m.baseAddress, let destination = y.baseAddress else { return }
        ComputeThreads.parallelRanges(block.count) { range in
            for local in range {
                let o = block.lowerBound + local
                let shift = SIMD8<Float>(repeating: bias?.scalars[o] ?? 0)
                for row in rows {
                    let (item, tileRow) = row.quotientAndRemainder(dividingBy: geometry.tileRows)
                    let plane = destination + (item * outputs + o) * height * width
                    let top = 2 * tileRow
                    let products = UnsafePointer(source + local * tiles + (row - rows.lowerBound) * columns)
                    for first in Swift.stride(from: 0, to: columns, by: 8) {
                        let count = Swift.min(8, columns - first)
                        func productRow(_ i: Int) -> Columns {
                            var row = Columns()
                            for j in 0..<4 { row[j] = load(count: count, at: products + (4 * i + j) * stride + first) }
                            return row
                        }
                        let (m0, m1, m2, m3) = (productRow(0), productRow(1), productRow(2), productRow(3))
                        let upper = m0 + m1 + m2, lower = m1 - m2 - m3
                        write(upper[0] + upper[1] + upper[2] + shift, upper[1] - upper[2] - upper[3] + shift,
                              count: count, to: plane + top * width, column: 2 * first, width: width)
                        if top + 1 < height {
                            write(lower[0] + lower[1] + lower[2] + shift, lower[1] - lower[2] - lower[3] + shift,
                                  count: count, to: plane + (top + 1) * width, column: 2 * first, width: width)
                        }
                    }
                }
            }
        }
    }

    /// The four columns of a patch row (or of a transformed row) for 8 tiles, one per lane.
    private struct Columns {
        var lanes = (SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>(), SIMD8<Float>())

        init() {}
        init(_ c0: SIMD8<Float>, _ c1: SIMD8<Float>, _ c2: SIMD8<Float>, _ c3: SIMD8<Float>) { lanes = (c0, c1, c2, c3) }

        subscript(column: Int) -> SIMD8<Float> {
            get {
                switch column {
                case 0: lanes.0
                case 1: lanes.1
                case 2: lanes.2
                default: lanes.3
                }
            }
            set {
                switch column {
                case 0: lanes.0 = newValue
                case 1: lanes.1 = newValue
                case 2: lanes.2 = newValue
                default: lanes.3 = newValue
                }
            }
        }

        static func + (a: Columns, b: Columns) -> Columns {
            Columns(a.lanes.0 + b.lanes.0, a.lanes.1 + b.lanes.1, a.lanes.2 + b.lanes.2, a.lanes.3 + b.lanes.3)
        }

        static func - (a: Columns, b: Columns) -> Columns {
            Columns(a.lanes.0 - b.lanes.0, a.lanes.1 - b.lanes.1, a.lanes.2 - b.lanes.2, a.lanes.3 - b.lanes.3)
        }
    }

    /// The first `count` lanes of 8 consecutive floats.
    private static func load(count: Int, at address: UnsafePointer<Float>) -> SIMD8<Float> {
        if count == 8 { return UnsafeRawPointer(address).loadUnaligned(as: SIMD8<Float>.self) }
        var lanes = SIMD8<Float>()
        for lane in 0..<count { lanes[lane] = address[lane] }
        return lanes
    }

    /// Stores the first `count` lanes to consecutive floats.
    private static func store(_ lanes: SIMD8<Float>, count: Int, at address: UnsafeMutablePointer<Float>) {
        if count == 8 {
            UnsafeMutableRawPointer(address).storeBytes(of: lanes, as: SIMD8<Float>.self)
        } else {
            for lane in 0..<count { address[lane] = lanes[lane] }
        }
    }

    /// Writes the left and right outputs of `count` tiles, interleaved, from `column` on, up to `width`.
    private static func write(_ left: SIMD8<Float>, _ right: SIMD8<Float>, count: Int,
                              to line: UnsafeMutablePointer<Float>, column: Int, width: Int) {
        if count == 8 && column + 16 <= width {
            var pairs = SIMD16<Float>()
            for lane in 0..<8 {
                pairs[2 * lane] = left[lane]
                pairs[2 * lane + 1] = right[lane]
            }
            UnsafeMutableRawPointer(line + column).storeBytes(of: pairs, as: SIMD16<Float>.self)
            return
        }
        for lane in 0..<count {
            line[column + 2 * lane] = left[lane]
            if column + 2 * lane + 1 < width { line[column + 2 * lane + 1] = right[lane] }
        }
    }

    /// The distance between consecutive ones of the 16 matrices, `size` floats plus 16: a
    /// multiple of 4 KiB would put the 16 streams a tile reads or writes in the same cache sets.
    static func skewedSize(_ size: Int) -> Int { size + 16 }
}
