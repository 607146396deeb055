import Compute
import Foundation

/// Deterministic stand-in weights: every parameter is a cheap formula of its key and element
/// index, identical in Swift and in `scripts/reference/` (function `synthetic_parameter`), so a
/// full-size network can be compared with diffusers without shipping its weights.
///
/// For a key `k` with `n` elements, `φ = 2π · fnv1a32(utf8(k)) / 2³²` and, computed in double
/// precision and rounded to float32:
/// - rank ≥ 2 (weights): `xᵢ = √(2 / fanIn) · sin(0.37·i + φ)`, `fanIn = n / shape[0]`;
/// - rank 1 whose key contains "norm" and ends in ".weight" (norm scales):
///   `xᵢ = 1 + 0.1 · sin(0.37·i + φ)`;
/// - other rank-1 tensors (biases): `xᵢ = 0.05 · sin(0.37·i + φ)`.
public enum SyntheticParameters {
    /// The synthetic tensor for `key` with `shape`.
    public static func tensor(key: String, shape: [Int]) -> Tensor {
        let count = shape.reduce(1, *)
        let phase = 2 * Double.pi * Double(fnv1a(key)) / 4_294_967_296
        let isNormScale = shape.count == 1 && key.hasSuffix(".weight") && key.contains("norm")
        let (offset, amplitude): (Double, Double) = if shape.count >= 2 {
            (0, (2 / Double(count / Swift.max(1, shape[0]))).squareRoot())
        } else if isNormScale {
            (1, 0.1)
        } else {
            (0, 0.05)
        }
        var values = [Float](repeating: 0, count: count)
        // sin(0.37·i + φ) by rotating (sin, cos) one step at a time, restarted from libm every
        // 256 elements: ten times faster than calling sin for the U-Net's 860 M parameters, and
        // within 1e-13 of it, far below float32 rounding.
        let (stepSin, stepCos) = (sin(0.37), cos(0.37))
        values.withUnsafeMutableBufferPointer { buffer in
            ComputeThreads.parallelRanges((count + 255) / 256, minimumPerRange: 256) { blocks in
                for block in blocks {
                    let start = block * 256
                    var (sine, cosine) = (sin(0.37 * Double(start) + phase), cos(0.37 * Double(start) + phase))
                    for index in start..<Swift.min(count, start + 256) {
                        buffer[index] = Float(offset + amplitude * sine)
                        (sine, cosine) = (sine * stepCos + cosine * stepSin, cosine * stepCos - sine * stepSin)
                    }
                }
            }
        }
        return Tensor(shape: shape, scalars: values)
    }

    /// 32-bit FNV-1a of the UTF-8 bytes.
    static func fnv1a(_ key: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in key.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash
    }
}
