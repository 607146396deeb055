import CKernels

/// Vectorised transcendental functions on 8-lane float vectors, for the activation and softmax
/// kernels (scalar `expf` costs several nanoseconds a call; these run 8 lanes at a time).
/// The softmax's row operations (``maximum(_:count:)``, ``exponentiate(_:count:shift:)``) run in
/// the `CKernels` AVX-512 or AVX2 code where ``InstructionSet/active`` allows, 16 lanes at a time.
///
/// `exp` is Cephes' `expf` (range reduction by `n·ln 2` in two parts, degree-5 polynomial,
/// `2ⁿ` built in the exponent bits): relative error below 2 ulp on [−87.3, 88.7]; inputs below
/// that range return 0, above it +∞, as `expf`.
enum VectorMath {
    typealias Vector = SIMD8<Float>

    @inline(__always)
    static func exp(_ x: Vector) -> Vector {
        let upper = Vector(repeating: 88.72283), lower = Vector(repeating: -87.33654)
        var clamped = x.replacing(with: lower, where: x .< lower)
        clamped.replace(with: upper, where: clamped .> upper)
        // Adding 1.5·2²³ rounds to the nearest integer and leaves it in the low mantissa bits,
        // which avoids Swift's generic (slow) SIMD float ↔ integer conversions.
        let magic = Vector(repeating: 12_582_912)
        let shifted = clamped * 1.442_695_04 + magic
        let n = shifted - magic
        var r = clamped - n * 0.693_359_375
        r = r + n * 2.121_944_4e-4
        var p = Vector(repeating: 1.987_569_15e-4)
        p = p * r + 1.398_199_95e-3
        p = p * r + 8.333_451_9e-3
        p = p * r + 4.166_579_59e-2
        p = p * r + 1.666_666_55e-1
        p = p * r + 5.000_000_12e-1
        let y = p * r * r + r + 1
        let integer = unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- unsafeBitCast(magic, to: SIMD8<Int32>.self)
        let exponent = (integer &+ 127) &<< 23
        var result = y * unsafeBitCast(exponent, to: Vector.self)
        result.replace(with: 0, where: x .< lower)
        result.replace(with: .infinity, where: x .> upper)
        return result
    }

    /// `erf(x)` by Abramowitz & Stegun's formula 7.1.26, `1 − t·(a₁ + a₂t + … + a₅t⁴)·e^{−x²}` with
    /// `t = 1/(1 + p|x|)` and the sign of `x` restored: absolute error below 1.5e-7, so
    /// `1 + erf(x)` in GELU is within an ulp of libm's. PyTorch's vectorised CPU GELU evaluates erf by
    /// the same formula; libm's scalar `erff` cost 5 % of a U-Net step.
    @inline(__always)
    static func erf(_ x: Vector) -> Vector {
        let magnitude = x.replacing(with: -x, where: x .< 0)
        let t = 1 / (1 + 0.327_591_1 * magnitude)
        var p = Vector(repeating: 1.061_405_429)
        p = p * t - 1.453_152_027
        p = p * t + 1.421_413_741
        p = p * t - 0.284_496_736
        p = p * t + 0.254_829_592
        let y = 1 - p * t * exp(-magnitude * magnitude)
        return y.replacing(with: -y, where: x .< 0)
    }

    /// `x · ½(1 + erf(x/√2))`, PyTorch's default GELU.
    @inline(__always)
    static func gelu(_ x: Vector) -> Vector { 0.5 * x * (1 + erf(x * 0.707_106_781_186_547_5)) }

    /// The largest of `count` floats (−∞ for none).
    @inline(__always)
    static func maximum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        if let kernel = InstructionSet.active.kernel { return ck_max(kernel, values, count) }
        var lanes = Vector(repeating: -.infinity)
        var index = 0
        while index + 8 <= count {
            let chunk = UnsafeRawPointer(values + index).loadUnaligned(as: Vector.self)
            lanes.replace(with: chunk, where: chunk .> lanes)
            index += 8
        }
        var result = lanes.max()
        while index < count {
            result = Swift.max(result, values[index])
            index += 1
        }
        return result
    }

    /// `values ← exp(values − shift)` in place; returns the sum of the new values.
    @inline(__always)
    static func exponentiate(_ values: UnsafeMutablePointer<Float>, count: Int, shift: Float) -> Float {
        if let kernel = InstructionSet.active.kernel { return ck_exp_sum(kernel, values, count, shift) }
        let center = Vector(repeating: shift)
        map(values, values, count: count) { exp($0 - center) }
        return sum(values, count: count)
    }

    /// The sum of `count` floats, accumulated in 8 lanes.
    @inline(__always)
    private static func sum(_ values: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = Vector(repeating: 0)
        var index = 0
        while index + 8 <= count {
            lanes += UnsafeRawPointer(values + index).loadUnaligned(as: Vector.self)
            index += 8
        }
        var result = lanes.sum()
        while index < count {
            result += values[index]
            index += 1
        }
        return result
    }

    /// Applies `transform` to `count` floats, 8 at a time, with a padded tail.
    @inline(__always)
    static func map(_ source: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>, count: Int,
                    _ transform: (Vector) -> Vector) {
        map(source, source, destination, count: count) { x, _ in transform(x) }
    }

    /// Applies `transform` to `count` pairs of floats, 8 at a time, with a padded tail: every
    /// element goes through the same vector code, wherever it lies.
    @inline(__always)
    static func map(_ first: UnsafePointer<Float>, _ second: UnsafePointer<Float>, _ destination: UnsafeMutablePointer<Float>,
                    count: Int, _ transform: (Vector, Vector) -> Vector) {
        var index = 0
        while index + 8 <= count {
            let a = UnsafeRawPointer(first + index).loadUnaligned(as: Vector.self)
            let b = UnsafeRawPointer(second + index).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(destination + index).storeBytes(of: transform(a, b), as: Vector.self)
            index += 8
        }
        if index < count {
            var a = Vector(repeating: 0), b = Vector(repeating: 0)
            for lane in 0..<(count - index) { (a[lane], b[lane]) = (first[index + lane], second[index + lane]) }
            let output = transform(a, b)
            for lane in 0..<(count - index) { destination[index + lane] = output[lane] }
        }
    }
}
