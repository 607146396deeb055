import Foundation

/// A seeded stream of random tensors; every random draw in the package goes through one.
///
/// Conformers are values: `normal(shape:)` is `mutating` and advances the stream, so the caller
/// owns the state and passes it `inout` to whatever draws (the VAE's posterior sample, the initial
/// latents, …). Copying a source forks the stream. There is no global generator.
public protocol RandomSource: Sendable {
    /// Draws a float32 tensor of independent standard normal samples and advances the stream.
    ///
    /// - Parameter shape: the dimensions of the result, outermost first; every entry ≥ 0.
    /// - Returns: a tensor of `shape` whose scalars are N(0, 1) samples in row-major order.
    mutating func normal(shape: [Int]) -> Tensor
}

/// A random source whose draws equal PyTorch's on the CPU, bit for bit.
///
/// `normal(shape:)` matches `torch.randn(shape, generator=g)` for a float32 CPU tensor and
/// `g = torch.Generator().manual_seed(seed)` (torch 2.0.1, ATen `native/cpu/DistributionTemplates.h`
/// `normal_kernel`), including the state the generator carries from one call to the next, so a
/// pipeline that draws several tensors from one generator sees the same sequence as diffusers.
///
/// The stream is MT19937 seeded with the low 32 bits of `seed` (``MersenneTwister``). Torch then
/// samples in one of two ways, depending only on the element count `n`:
///
/// - **n ≥ 16** (`normal_fill`): draw n uniforms `u = (next() & 0xFFFFFF)·2⁻²⁴`; in each block of
///   16, for j in 0..<8, `r = √(−2 ln(1 − u[j]))`, `θ = 2π·u[j+8]`, `out[j] = r cos θ`,
///   `out[j+8] = r sin θ` (Box–Muller). If 16 does not divide n, 16 *fresh* uniforms overwrite the
///   last 16 slots and that block is transformed again. How ln, sin and cos are evaluated is the
///   ``Kernel``.
/// - **n < 16** (`normal_distribution<double>` in ATen `core/DistributionsHelper.h`): each element
///   is a double-precision Box–Muller draw from two 53-bit uniforms u₁, u₂ =
///   `(next64() & (2⁵³−1))·2⁻⁵³`: with `r = √(−2 log1p(−u₂))` and `θ = 2π·u₁` it returns
///   `r cos θ` rounded to float and caches `r sin θ` in the generator for the *next* scalar-path
///   element — even one in a later call.
///   The n ≥ 16 path neither reads nor clears that cache.
///
/// ```swift
/// var random = TorchRandomSource(seed: 42)
/// let latents = random.normal(shape: [1, 4, 32, 128])   // == torch.randn(..., generator=g)
/// ```
public struct TorchRandomSource: RandomSource {
    /// Which of torch's `normal_fill` implementations to reproduce for draws of 16 or more elements.
    public enum Kernel: Sendable, Hashable {
        /// `normal_fill_AVX2`: ln, sin and cos from `avx_mathfun.h` (Cephes polynomials), with every
        /// multiply–add fused as GCC compiles it. This is what torch runs on any x86-64 CPU with
        /// AVX2 (also under AVX-512 capability). It uses only IEEE arithmetic and fused
        /// multiply–add, so the result is the same on every platform.
        case avx2
        /// `normal_fill` with `std::log`, `std::cos`, `std::sin` on float: what torch runs without
        /// AVX2 (aarch64, Apple silicon, `ATEN_CPU_CAPABILITY=default`). Bit-exact only where this
        /// process's libm is the one torch ran with.
        case portable
    }

    /// The seed given at creation (all 64 bits; only the low 32 seed the engine, as in torch).
    public var seed: UInt64 { engine.seed }
    /// The `normal_fill` variant used for draws of 16 or more elements.
    public let kernel: Kernel
    private var engine: MersenneTwister
    /// Torch's `next_double_normal_sample`: the sine half of the last scalar-path Box–Muller pair.
    private var cachedNormal: Double?

    /// Creates the equivalent of `torch.Generator().manual_seed(seed)`.
    ///
    /// - Parameters:
    ///   - seed: torch's 64-bit seed (a negative Python seed `s` corresponds to `UInt64(bitPattern: s)`).
    ///   - kernel: the `normal_fill` variant; `.avx2` (the default) matches torch on x86-64.
    public init(seed: UInt64, kernel: Kernel = .avx2) {
        self.engine = MersenneTwister(seed: seed)
        self.kernel = kernel
        self.cachedNormal = nil
    }

    /// Draws like `torch.randn(shape, generator=g)` (float32, CPU); see the type's documentation.
    ///
    /// - Parameter shape: dimensions of the result, e.g. `[1, 4, 32, 128]` latents.
    /// - Returns: a tensor of `shape`.
    /// - Complexity: O(n); allocates only the result. `[1, 4, 32, 128]` takes about 0.4 ms (`.avx2`)
    ///   or 0.16 ms (`.portable`) in a release build on x86-64.
    public mutating func normal(shape: [Int]) -> Tensor {
        precondition(shape.allSatisfy { $0 >= 0 }, "TorchRandomSource: negative dimension in \(shape)")
        let count = shape.reduce(1, *)
        let scalars = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count >= 16 {
                fillBoxMuller(buffer)
            } else {
                for index in 0..<count { buffer[index] = nextScalarNormal() }
            }
            initialized = count
        }
        return Tensor(shape: shape, scalars: scalars)   // [shape] row-major
    }

    /// Torch's `normal_fill` / `normal_fill_AVX2` over a whole buffer of at least 16 elements.
    private mutating func fillBoxMuller(_ buffer: UnsafeMutableBufferPointer<Float>) {
        let count = buffer.count
        engine.fillUniformFloats(buffer)
        guard let base = buffer.baseAddress else { return }
        var start = 0
        while start + 16 <= count {
            transformBlock(base + start)
            start += 16
        }
        if count % 16 != 0 {
            let tail = UnsafeMutableBufferPointer(rebasing: buffer[(count - 16)...])
            engine.fillUniformFloats(tail)
            transformBlock(base + count - 16)
        }
    }

    @inline(__always)
    private func transformBlock(_ block: UnsafeMutablePointer<Float>) {
        switch kernel {
        case .avx2: BoxMuller.avx2Block(block)
        case .portable: BoxMuller.portableBlock(block)
        }
    }

    /// One element of `at::normal_distribution<double>(0, 1)`, rounded to float.
    private mutating func nextScalarNormal() -> Float {
        if let cached = cachedNormal {
            cachedNormal = nil
            return Float(cached * 1 + 0)               // transformation::normal(val, mean 0, std 1)
        }
        let u1 = uniformDouble()
        let u2 = uniformDouble()
        let radius = (-2.0 * log1p(-u2)).squareRoot()
        let theta = 2.0 * Double.pi * u1
        cachedNormal = radius * sin(theta)
        return Float(radius * cos(theta) * 1 + 0)
    }

    /// `at::uniform_real_distribution<double>(0, 1)`: 53 bits of `random64()`, in [0, 1).
    private mutating func uniformDouble() -> Double {
        Double(engine.next64() & ((1 << 53) - 1)) * 0x1p-53
    }
}

/// The 16-element Box–Muller transforms of torch's `normal_fill` (ATen
/// `native/cpu/DistributionTemplates.h`): the buffer holds uniforms in [0, 1) on entry and normal
/// samples on exit. Elements j and j+8 form one pair; mean 0 and standard deviation 1 are applied
/// as torch does (`x·1 + 0`, which only turns −0 into +0).
enum BoxMuller {
    /// `normal_fill_16_AVX2`: the eight pairs at once, as the AVX2 code does.
    static func avx2Block(_ data: UnsafeMutablePointer<Float>) {
        let raw = UnsafeMutableRawPointer(data)
        let first = raw.loadUnaligned(as: Lanes.self)                         // u[0..<8]
        let second = raw.loadUnaligned(fromByteOffset: 32, as: Lanes.self)    // u[8..<16]
        let radius = (-2 * CephesFloat.log(1 - first)).squareRoot()
        let (sine, cosine) = CephesFloat.sinCos(Float(2 * Double.pi) * second)
        raw.storeBytes(of: 0 + radius * cosine * 1, as: Lanes.self)          // _mm256_fmadd_ps(n1, std 1, mean 0)
        raw.storeBytes(of: 0 + radius * sine * 1, toByteOffset: 32, as: Lanes.self)
    }

    /// `normal_fill_16<float>` with the platform's libm.
    static func portableBlock(_ data: UnsafeMutablePointer<Float>) {
        for lane in 0..<8 {
            let radius = (-2 * log(1 - data[lane])).squareRoot()
            let theta = Float(2 * Double.pi * Double(data[lane + 8]))   // computed in double, as torch
            data[lane] = radius * cos(theta) * 1 + 0
            data[lane + 8] = radius * sin(theta) * 1 + 0
        }
    }
}

/// Eight float lanes, the width of one `__m256`.
typealias Lanes = SIMD8<Float>

/// Transcriptions of `log256_ps` and `sincos256_ps` from ATen `native/cpu/avx_mathfun.h`
/// (Giovanni Garberoglio's AVX port of Julien Pommier's `sse_mathfun.h`, itself Cephes `logf`/`sinf`),
/// operation by operation on eight lanes.
///
/// Every `a·b + c` is fused (``fused(_:_:_:)``) because torch's GCC build contracts them
/// (`-ffp-contract=fast` with FMA enabled for the AVX2 kernels); with separate roundings the
/// results differ by 1–2 ulp in about one element in a hundred. Which operand pairs GCC fused was
/// settled against torch's output on 4 Mi samples with zero mismatches. Products that are exact
/// (by ½, or by a short constant times a small integer) are left unfused: the result is the same.
enum CephesFloat {
    /// Natural logarithm of lanes in (0, 1]; only the domain torch's Box–Muller feeds it
    /// (normal floats, so the NaN and denormal handling of `log256_ps` is omitted).
    @inline(__always)
    static func log(_ value: Lanes) -> Lanes {
        let bits = unsafeBitCast(value, to: SIMD8<UInt32>.self)
        // Split value = m·2^e with m in [0.5, 1).
        var x = unsafeBitCast((bits & ~0x7f80_0000) | Float(0.5).bitPattern, to: Lanes.self)
        var e = Lanes(SIMD8<Int32>(truncatingIfNeeded: bits &>> 23) &- 0x7f) + 1
        // If m < √½: e −= 1, x = 2m − 1; else x = m − 1.
        let isSmall = x .< 0.707106781186547524
        let addend = Lanes().replacing(with: x, where: isSmall)
        x = x - 1
        e = e - Lanes().replacing(with: 1, where: isSmall)
        x = x + addend
        let z = x * x
        var y = Lanes(repeating: 7.0376836292E-2)
        y = fused(y, x, -1.1514610310E-1)
        y = fused(y, x, 1.1676998740E-1)
        y = fused(y, x, -1.2420140846E-1)
        y = fused(y, x, 1.4249322787E-1)
        y = fused(y, x, -1.6668057665E-1)
        y = fused(y, x, 2.0000714765E-1)
        y = fused(y, x, -2.4999993993E-1)
        y = fused(y, x, 3.3333331174E-1)
        y = y * x
        y = fused(y, z, e * -2.12194440e-4)   // y·z + e·q1: GCC fuses the y·z product
        y = y - z * 0.5
        x = x + y
        return x + e * 0.693359375
    }

    /// Sine and cosine of lanes in [0, 2π); `sincos256_ps`'s octant reduction and polynomials.
    @inline(__always)
    static func sinCos(_ value: Lanes) -> (sin: Lanes, cos: Lanes) {
        let signMask = SIMD8<UInt32>(repeating: 0x8000_0000)
        var x = unsafeBitCast(unsafeBitCast(value, to: SIMD8<UInt32>.self) & ~signMask, to: Lanes.self)
        // Octant j = (⌊x·4/π⌋ + 1) & ~1, then x −= j·π/4 in three parts (Cody–Waite).
        var octant = SIMD8<Int32>(x * 1.27323954473516, rounding: .towardZero)
        octant = (octant &+ 1) & ~1
        let y = Lanes(octant)
        let sinSignFlip = SIMD8<UInt32>(truncatingIfNeeded: (octant & 4) &<< 29)
        let cosSign = SIMD8<UInt32>(truncatingIfNeeded: (~(octant &- 2) & 4) &<< 29)
        let polynomialsSwapped = (octant & 2) .!= 0   // octants where sin uses the cosine series
        x = x + y * -0.78515625
        x = x + y * -2.4187564849853515625e-4
        x = fused(y, Lanes(repeating: -3.77489497744594108e-8), x)
        let z = x * x
        var cosPoly = Lanes(repeating: 2.443315711809948E-005)
        cosPoly = fused(cosPoly, z, -1.388731625493765E-003)
        cosPoly = fused(cosPoly, z, 4.166664568298827E-002)
        cosPoly = cosPoly * z
        cosPoly = fused(cosPoly, z, -(z * 0.5))
        cosPoly = cosPoly + 1
        var sinPoly = Lanes(repeating: -1.9515295891E-4)
        sinPoly = fused(sinPoly, z, 8.3321608736E-3)
        sinPoly = fused(sinPoly, z, -1.6666654611E-1)
        sinPoly = sinPoly * z
        sinPoly = fused(sinPoly, x, x)
        // The vector code selects with bit masks and adds +0 to the unselected polynomial.
        let zero = Lanes()
        let sine = (zero + sinPoly).replacing(with: cosPoly + zero, where: polynomialsSwapped)
        let cosine = (cosPoly + zero).replacing(with: zero + sinPoly, where: polynomialsSwapped)
        let sinSign = (unsafeBitCast(value, to: SIMD8<UInt32>.self) & signMask) ^ sinSignFlip
        return (unsafeBitCast(unsafeBitCast(sine, to: SIMD8<UInt32>.self) ^ sinSign, to: Lanes.self),
                unsafeBitCast(unsafeBitCast(cosine, to: SIMD8<UInt32>.self) ^ cosSign, to: Lanes.self))
    }

    @inline(__always)
    static func fused(_ a: Lanes, _ b: Lanes, _ c: Float) -> Lanes {
        fused(a, b, Lanes(repeating: c))
    }

    /// `a·b + c` rounded once per lane, exactly as `c.addingProduct(a, b)`.
    ///
    /// On x86-64 Swift targets the baseline CPU, which has no FMA instruction, so `addingProduct`
    /// becomes one call to libm's `fmaf` per lane. This version stays in vector registers: the
    /// product is exact in double (24 + 24 bits), the double sum is rounded to odd (Knuth's TwoSum
    /// gives its exact error, whose sign and non-zeroness pick the odd neighbour of the exact sum),
    /// and rounding that to float is correct because double carries more than 24 + 2 bits
    /// (Boldo & Melquiond, "Emulation of FMA and correctly rounded sums: proved algorithms using
    /// rounding to odd", IEEE Trans. Computers 57(4), 2008).
    @inline(__always)
    static func fused(_ a: Lanes, _ b: Lanes, _ c: Lanes) -> Lanes {
        #if arch(x86_64)
        let product = SIMD8<Double>(a) * SIMD8<Double>(b)
        let addend = SIMD8<Double>(c)
        let sum = product + addend
        let productPart = sum - addend
        let addendPart = sum - productPart
        let error = (product - productPart) + (addend - addendPart)
        // Round to odd without branches: truncate towards zero, then set the sticky last bit.
        let sumBits = unsafeBitCast(sum, to: SIMD8<UInt64>.self)
        let errorBits = unsafeBitCast(error, to: SIMD8<UInt64>.self)
        let inexact = SIMD8<UInt64>().replacing(with: 1, where: error .!= 0)
        let roundedAwayFromExact = ((errorBits ^ sumBits) &>> 63) & inexact
        return Lanes(unsafeBitCast((sumBits &- roundedAwayFromExact) | inexact, to: SIMD8<Double>.self))
        #else
        return c.addingProduct(a, b)
        #endif
    }
}
