/// 3×3, stride-1 convolutions by Winograd's minimal filtering F(m×m, 3×3) (Lavin & Gray,
/// "Fast Algorithms for Convolutional Neural Networks", 2015), with output tiles of 2×2 or 4×4.
///
/// Each m×m output tile is computed from an (m + 2)×(m + 2) input tile in the transformed domain
/// with (m + 2)² multiplies instead of 9m²: 16 for 4 outputs (F(2×2), 2.25× fewer than im2col's)
/// or 36 for 16 (F(4×4), 4× fewer), so the GEMMs, where a U-Net spends its time, shrink. In
/// matrices: the weights become `U = G g Gᵀ` ((m + 2)² matrices `[O, C]`), a band of input tiles
/// `V = Bᵀ d B` ((m + 2)² matrices `[C, tiles]`), the products `M = U · V` run in ``BLAS``, and
/// the outputs are `Y = Aᵀ m A` (``WinogradTransforms`` has the matrices). The result differs from
/// the direct sum by rounding alone: F(2×2)'s transforms only add and halve (relative error
/// ~1e-7), F(4×4)'s multiply by constants up to 27/8 and round about six times as much.
///
/// The buffers are raw pointers because the transforms gather and scatter (m + 2)² strided streams
/// per tile; bounds are fixed by the shapes checked in ``Convolution/conv2d(_:weight:bias:stride:padding:dilation:strategy:adding:instructionSet:)``.
public enum WinogradConvolution {
    /// The size of the output tiles, which chooses the algorithm.
    enum Tile {
        /// F(2×2, 3×3): 16 products per 4 outputs, transforms that only add and halve.
        case twoByTwo
        /// F(4×4, 3×3): 36 products per 16 outputs (44 % fewer than F(2×2)), about six times
        /// F(2×2)'s rounding error; F(2×2) where the plane has fewer than
        /// ``minimumFourByFourTiles`` tiles of 4 × 4.
        case fourByFour
    }

    /// Planes of fewer 4 × 4 tiles (tile rows × tile columns of one batch item) than this take
    /// F(2×2) when F(4×4) is asked for. Each transformed weight is written, packed and used for
    /// one multiply-add per tile; with few tiles, the 36 transformed weights per kernel cost what
    /// the saved products do (the U-Net's 1280-channel 8 × 32 level: 16 tiles an item, 32 at
    /// batch 2, both in 87 ms). Counted per item, so that an item's output does not depend on its batch.
    public static let minimumFourByFourTiles = 64

    /// Planes of fewer output positions than this go through im2col: the weight transform would
    /// cost more than the saved multiplies. Counted per batch item, as above.
    public static let minimumPositions = 256

    /// Largest transformed weight matrix `[O, C]` of a block of output channels, in floats (512 KB):
    /// 8 MB of transformed weights for F(2×2), 18 MB for F(4×4). Smaller blocks cost no time
    /// measurably; the buffer is part of a generation's peak memory (docs/compute.md).
    static let weightMatrixBudget = 1 << 17

    /// Largest transformed input and product of a band of tile rows together, `(m + 2)²` matrices
    /// `[C + O_block, tiles]`, in floats (32 MB, half the im2col budget). The input buffer is the
    /// largest scratch a U-Net step holds; narrower bands would transform and pack the weights
    /// once more per band, which costs time.
    static let bandBudget = 8 << 20

    /// Whether a convolution can and should take this path.
    static func applies(kernel: (height: Int, width: Int), stride: Int, dilation: Int, positions: Int) -> Bool {
        kernel == (3, 3) && stride == 1 && dilation == 1 && positions >= minimumPositions
    }

    /// `F.conv2d(input, weight, bias, padding: padding)` for a `[O, C, 3, 3]` weight; `size` is the
    /// output plane. The GEMMs run on `instructionSet`.
    static func conv2d(_ input: Tensor, weight: Tensor, bias: Tensor?, padding: Int, output size: (height: Int, width: Int),
                       tile: Tile, instructionSet: InstructionSet) -> Tensor {
        let tiles = ((size.height + 3) / 4) * ((size.width + 3) / 4)
        if tile == .fourByFour && tiles >= minimumFourByFourTiles {
            return conv2d(input, weight: weight, bias: bias, padding: padding, output: size, WinogradF4.self,
                          instructionSet: instructionSet)
        }
        return conv2d(input, weight: weight, bias: bias, padding: padding, output: size, WinogradF2.self, instructionSet: instructionSet)
    }

    private static func conv2d<T: WinogradTransforms>(_ input: Tensor, weight: Tensor, bias: Tensor?, padding: Int,
                                                      output size: (height: Int, width: Int), _ transforms: T.Type,
                                                      instructionSet: InstructionSet) -> Tensor {
        let (batch, channels, height, width) = (input.shape[0], input.shape[1], input.shape[2], input.shape[3])
        let outputs = weight.shape[0]
        let matrices = (T.outputSide + 2) * (T.outputSide + 2)
        let geometry = TileGeometry(side: T.outputSide, batch: batch, inputHeight: height, inputWidth: width, padding: padding,
                                    outputHeight: size.height, outputWidth: size.width)
        // Blocks of output channels, so that the transformed weights stay under `weightMatrixBudget`
        // per matrix (the U-Net's 2560 → 1280 convolutions would need 210 MB at once for F(2×2)),
        // and bands of tile rows, so that V and M stay under `bandBudget` (the VAE decoder's
        // 256 × 1024 planes would need 16 × 128 × 65 536 floats for V alone).
        let blockCount = (outputs * channels + weightMatrixBudget - 1) / weightMatrixBudget
        let blockSize = (outputs + blockCount - 1) / blockCount
        let rowsPerBand = Swift.max(1, Swift.min(geometry.totalTileRows,
                                                 bandBudget / (matrices * (channels + blockSize) * geometry.tileColumns)))
        let bandCapacity = rowsPerBand * geometry.tileColumns
        let count = batch * outputs * size.height * size.width
        let scalars = [Float](unsafeUninitializedCapacity: count) { y, initialized in
            input.scalars.withUnsafeBufferPointer { x in
                Workspace.shared.withScratch(count: matrices * skewedSize(blockSize * channels)) { u in
                    Workspace.shared.withScratch(count: matrices * skewedSize(channels * bandCapacity)) { v in
                        Workspace.shared.withScratch(count: matrices * skewedSize(blockSize * bandCapacity)) { m in
                            // Bands outside, blocks inside: every input tile is transformed once.
                            // The weights are transformed once per band and block, and a
                            // convolution needs several of either only at the top level (bands of
                            // 320 channels: one block) or at the deep ones (blocks of 1280: one band).
                            var firstRow = 0
                            while firstRow < geometry.totalTileRows {
                                let rows = firstRow..<Swift.min(geometry.totalTileRows, firstRow + rowsPerBand)
                                let tiles = rows.count * geometry.tileColumns
                                let inputStride = skewedSize(channels * tiles)
                                transformInput(x, channels: channels, rows: rows, geometry: geometry, T.self, into: v)
                                for firstOutput in Swift.stride(from: 0, to: outputs, by: blockSize) {
                                    let block = firstOutput..<Swift.min(outputs, firstOutput + blockSize)
                                    let weightStride = skewedSize(block.count * channels), productStride = skewedSize(block.count * tiles)
                                    transformWeights(weight, outputs: block, T.self, into: u)
                                    // One product per thread at a time, whole: a product cut in two
                                    // packs its A or its B twice, and the deep levels' few tiles
                                    // would split unevenly.
                                    ComputeThreads.parallelFor(matrices) { k in
                                        // [O, C] · [C, tiles] -> [O, tiles], for each position in the tile
                                        BLAS.sgemm(m: block.count, n: tiles, k: channels,
                                                   a: UnsafeBufferPointer(rebasing: u[k * weightStride..<k * weightStride + block.count * channels]),
                                                   lda: channels,
                                                   b: UnsafeBufferPointer(rebasing: v[k * inputStride..<k * inputStride + channels * tiles]),
                                                   ldb: tiles,
                                                   c: UnsafeMutableBufferPointer(rebasing: m[k * productStride..<k * productStride + block.count * tiles]),
                                                   ldc: tiles, instructionSet: instructionSet)
                                    }
                                    transformOutput(m, outputs: block, of: outputs, bias: bias, rows: rows, geometry: geometry,
                                                    T.self, into: y)
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

    /// Where the `side` × `side` output tiles lie. Tile rows of all batch items are numbered
    /// together (`item · tileRows + row`), so a band may span items and small planes fill a GEMM.
    struct TileGeometry {
        let side, batch, inputHeight, inputWidth, padding, outputHeight, outputWidth: Int
        var tileRows: Int { (outputHeight + side - 1) / side }
        var tileColumns: Int { (outputWidth + side - 1) / side }
        var totalTileRows: Int { batch * tileRows }
    }

    /// `U[k][o − first][c] = (G g Gᵀ)[k]` for `o` in `block`, 8 input channels at a time, one per
    /// SIMD lane (each of the `(m + 2)²` matrices is then written 8 floats at a time).
    private static func transformWeights<T: WinogradTransforms>(_ weight: Tensor, outputs block: Range<Int>, _: T.Type,
                                                                into u: UnsafeMutableBufferPointer<Float>) {
        let channels = weight.shape[1], n = T.outputSide + 2
        let step = skewedSize(block.count * channels)
        guard let destination = u.baseAddress else { return }
        weight.scalars.withUnsafeBufferPointer { g in
            guard let source = g.baseAddress else { return }
            ComputeThreads.parallelRanges(block.count) { range in
                for local in range {
                    let o = block.lowerBound + local
                    for c in Swift.stride(from: 0, to: channels, by: 8) {
                        let count = Swift.min(8, channels - c), taps = source + (o * channels + c) * 9
                        // G g on each column of the kernel (its rows combined), then (G g) Gᵀ on each row.
                        var rows = InlineArray<6, WinogradLanes>(repeating: WinogradLanes(repeating: .zero))
                        for j in 0..<3 {
                            var column = WinogradLanes(repeating: .zero)
                            for i in 0..<3 { column[i] = load(count: count, at: taps + 3 * i + j, stride: 9) }
                            let combined = T.filter(column)
                            for i in 0..<n { rows[i][j] = combined[i] }
                        }
                        for i in 0..<n {
                            let transformed = T.filter(rows[i])
                            for j in 0..<n {
                                store(transformed[j], count: count, at: destination + (i * n + j) * step + local * channels + c)
                            }
                        }
                    }
                }
            }
        }
    }

    /// `V[k][c][tile] = (Bᵀ d B)[k]`, `d` the input patch of the tile, zero outside the image (the
    /// padding). Tiles go 8 at a time, one per SIMD lane.
    private static func transformInput<T: WinogradTransforms>(_ x: UnsafeBufferPointer<Float>, channels: Int, rows: Range<Int>,
                                                              geometry: TileGeometry, _: T.Type,
                                                              into v: UnsafeMutableBufferPointer<Float>) {
        let (height, width, columns, side) = (geometry.inputHeight, geometry.inputWidth, geometry.tileColumns, T.outputSide)
        let n = side + 2, tiles = rows.count * columns, stride = skewedSize(channels * tiles)
        // The n input rows of a tile row, each copied into a line that starts `padding` zeros to its
        // left and ends with zeros past the last group of 8 tiles, so that every group loads its
        // patch columns as two vectors (tile l of a group starts at `side · l`).
        let lineLength = 8 * side * ((columns + 7) / 8) + 9 * side
        guard let source = x.baseAddress, let destination = v.baseAddress else { return }
        ComputeThreads.parallelRanges(channels) { range in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: n * lineLength) { lines in
                guard let start = lines.baseAddress else { return }
                lines.initialize(repeating: 0)
                for c in range {
                    for row in rows {
                        let (item, tileRow) = row.quotientAndRemainder(dividingBy: geometry.tileRows)
                        let plane = source + (item * channels + c) * height * width
                        let top = side * tileRow - geometry.padding
                        for r in 0..<n {
                            let line = start + r * lineLength + geometry.padding
                            if (0..<height).contains(top + r) {
                                line.update(from: plane + (top + r) * width, count: width)
                            } else {
                                line.update(repeating: 0, count: width)
                            }
                        }
                        let out = destination + c * tiles + (row - rows.lowerBound) * columns
                        for first in Swift.stride(from: 0, to: columns, by: 8) {
                            // Bᵀ d on each column of the patch (its rows combined), then (Bᵀ d) B on each row.
                            var patch = InlineArray<6, WinogradLanes>(repeating: WinogradLanes(repeating: .zero))
                            for r in 0..<n { patch[r] = patchColumns(start + r * lineLength + side * first, T.self) }
                            var combined = InlineArray<6, WinogradLanes>(repeating: WinogradLanes(repeating: .zero))
                            for j in 0..<n {
                                var column = WinogradLanes(repeating: .zero)
                                for r in 0..<n { column[r] = patch[r][j] }
                                let transformed = T.input(column)
                                for i in 0..<n { combined[i][j] = transformed[i] }
                            }
                            let count = Swift.min(8, columns - first)
                            for i in 0..<n {
                                let transformed = T.input(combined[i])
                                for j in 0..<n { store(transformed[j], count: count, at: out + (i * n + j) * stride + first) }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The `m + 2` columns of the patches of 8 tiles whose line starts at `line`: lane `l` of
    /// column `j` is `line[m · l + j]`, read as two vectors of `8 m` floats.
    @inline(__always)
    private static func patchColumns<T: WinogradTransforms>(_ line: UnsafePointer<Float>, _: T.Type) -> WinogradLanes {
        let side = T.outputSide
        let head = UnsafeRawPointer(line).loadUnaligned(as: T.Row.self)
        let tail = UnsafeRawPointer(line + side).loadUnaligned(as: T.Row.self)
        var columns = WinogradLanes(repeating: .zero)
        for j in 0..<side + 2 {
            for lane in 0..<8 { columns[j][lane] = j < side ? head[side * lane + j] : tail[side * lane + j - side] }
        }
        return columns
    }

    /// `Y = Aᵀ m A`, plus the bias, written to the tile's outputs that lie inside the plane. Tiles
    /// go 8 at a time, one per SIMD lane.
    private static func transformOutput<T: WinogradTransforms>(_ m: UnsafeMutableBufferPointer<Float>, outputs block: Range<Int>,
                                                               of outputs: Int, bias: Tensor?, rows: Range<Int>,
                                                               geometry: TileGeometry, _: T.Type,
                                                               into y: UnsafeMutableBufferPointer<Float>) {
        let (height, width, columns, side) = (geometry.outputHeight, geometry.outputWidth, geometry.tileColumns, T.outputSide)
        let n = side + 2, tiles = rows.count * columns, stride = skewedSize(block.count * tiles)
        guard let source = m.baseAddress, let destination = y.baseAddress else { return }
        ComputeThreads.parallelRanges(block.count) { range in
            for local in range {
                let o = block.lowerBound + local
                let shift = SIMD8<Float>(repeating: bias?.scalars[o] ?? 0)
                for row in rows {
                    let (item, tileRow) = row.quotientAndRemainder(dividingBy: geometry.tileRows)
                    let plane = destination + (item * outputs + o) * height * width
                    let top = side * tileRow
                    let products = UnsafePointer(source + local * tiles + (row - rows.lowerBound) * columns)
                    for first in Swift.stride(from: 0, to: columns, by: 8) {
                        let count = Swift.min(8, columns - first)
                        // Aᵀ p on each column of the products (their rows combined), then (Aᵀ p) A on each row.
                        var combined = InlineArray<6, WinogradLanes>(repeating: WinogradLanes(repeating: .zero))
                        for j in 0..<n {
                            var column = WinogradLanes(repeating: .zero)
                            for i in 0..<n { column[i] = load(count: count, at: products + (i * n + j) * stride + first, stride: 1) }
                            let transformed = T.output(column)
                            for i in 0..<side { combined[i][j] = transformed[i] }
                        }
                        for i in 0..<side where top + i < height {
                            let transformed = T.output(combined[i])
                            write(transformed, adding: shift, count: count, to: plane + (top + i) * width, column: side * first,
                                  width: width, T.self)
                        }
                    }
                }
            }
        }
    }

    /// The first `count` lanes of 8 floats `stride` apart.
    @inline(__always)
    private static func load(count: Int, at address: UnsafePointer<Float>, stride: Int) -> SIMD8<Float> {
        if count == 8 && stride == 1 { return UnsafeRawPointer(address).loadUnaligned(as: SIMD8<Float>.self) }
        if count == 8 {
            return SIMD8(address[0], address[stride], address[2 * stride], address[3 * stride],
                         address[4 * stride], address[5 * stride], address[6 * stride], address[7 * stride])
        }
        var lanes = SIMD8<Float>()
        for lane in 0..<count { lanes[lane] = address[lane * stride] }
        return lanes
    }

    /// Stores the first `count` lanes to consecutive floats.
    @inline(__always)
    private static func store(_ lanes: SIMD8<Float>, count: Int, at address: UnsafeMutablePointer<Float>) {
        if count == 8 {
            UnsafeMutableRawPointer(address).storeBytes(of: lanes, as: SIMD8<Float>.self)
        } else {
            for lane in 0..<count { address[lane] = lanes[lane] }
        }
    }

    /// Writes the `m` outputs of one tile row of `count` tiles, side by side, plus `shift`, from
    /// `column` on, up to `width`.
    @inline(__always)
    private static func write<T: WinogradTransforms>(_ outputs: WinogradLanes, adding shift: SIMD8<Float>, count: Int,
                                                     to line: UnsafeMutablePointer<Float>, column: Int, width: Int, _: T.Type) {
        let side = T.outputSide
        var row = T.Row()
        for j in 0..<side {
            let shifted = outputs[j] + shift
            for lane in 0..<8 { row[side * lane + j] = shifted[lane] }
        }
        if count == 8 && column + 8 * side <= width {
            UnsafeMutableRawPointer(line + column).storeBytes(of: row, as: T.Row.self)
            return
        }
        for i in 0..<Swift.min(side * count, width - column) { line[column + i] = row[i] }
    }

    /// The distance between consecutive ones of the (m + 2)² matrices, `size` floats plus 16: a
    /// multiple of 4 KiB would put the streams a tile reads or writes in the same cache sets.
    static func skewedSize(_ size: Int) -> Int { size + 16 }
}
