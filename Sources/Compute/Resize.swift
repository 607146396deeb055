/// Nearest-neighbour resizing of `[N, C, H, W]` tensors, as `torch.nn.functional.interpolate(mode='nearest')`.
public enum Resize {
    /// Each pixel repeated 2×2: `[N, C, H, W] → [N, C, 2H, 2W]` (diffusers `Upsample2D`).
    public static func upsampleNearest2x(_ input: Tensor) -> Tensor {
        interpolateNearest(input, height: input.shape[2] * 2, width: input.shape[3] * 2)
    }

    /// `[N, C, H, W] → [N, C, height, width]` with source index `⌊dst · (in / out)⌋`, the scale
    /// computed in float32 as PyTorch's `nearest` kernel does (so `256 → 32` picks rows 0, 8, 16, …).
    public static func interpolateNearest(_ input: Tensor, height: Int, width: Int) -> Tensor {
        precondition(input.rank == 4 && height > 0 && width > 0, "interpolateNearest: expected [N, C, H, W]")
        let (planes, inHeight, inWidth) = (input.shape[0] * input.shape[1], input.shape[2], input.shape[3])
        let rowScale = Float(inHeight) / Float(height), columnScale = Float(inWidth) / Float(width)
        let sourceRows = (0..<height).map { Swift.min(Int((Float($0) * rowScale).rounded(.down)), inHeight - 1) }
        let sourceColumns = (0..<width).map { Swift.min(Int((Float($0) * columnScale).rounded(.down)), inWidth - 1) }
        var output = [Float](repeating: 0, count: planes * height * width)
        input.scalars.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                for plane in 0..<planes {
                    for row in 0..<height {
                        let source = (plane * inHeight + sourceRows[row]) * inWidth
                        let destination = (plane * height + row) * width
                        for column in 0..<width { y[destination + column] = x[source + sourceColumns[column]] }
                    }
                }
            }
        }
        return Tensor(shape: [input.shape[0], input.shape[1], height, width], scalars: output)
    }
}
