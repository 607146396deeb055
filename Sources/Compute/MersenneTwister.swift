/// The 32-bit Mersenne Twister (MT19937) exactly as PyTorch's CPU generator runs it.
///
/// Matches `at::mt19937` (ATen `core/MT19937RNGEngine.h`, after Matsumoto and Nishimura's
/// `mt19937ar-cok.c`): the state is seeded with Knuth's recurrence
/// `s[i] = 1812433253 · (s[i−1] ⊕ (s[i−1] >> 30)) + i` from `s[0] = seed mod 2³²`, the whole
/// 624-word block is regenerated ("twisted") before the first output and every 624 outputs,
/// and each output is tempered with the standard shifts and masks.
///
/// Only the low 32 bits of the 64-bit seed reach the state, as in torch:
/// `torch.Generator().manual_seed(2**32 + 42)` produces the same stream as `manual_seed(42)`.
///
/// The generator is a value: copying it forks the stream, and two copies then produce the same
/// numbers independently.
///
/// ```swift
/// var engine = MersenneTwister(seed: 5489)
/// engine.next()   // 3499211612, the first MT19937 output for the reference seed
/// ```
public struct MersenneTwister: Sendable {
    /// Words in the state (MT19937's n).
    public static let stateSize = 624
    private static let shift = 397              // m
    private static let matrixA: UInt32 = 0x9908_b0df
    private static let upperMask: UInt32 = 0x8000_0000
    private static let lowerMask: UInt32 = 0x7fff_ffff

    /// The seed this generator was created with (all 64 bits, as torch's `initial_seed()` keeps them).
    public let seed: UInt64
    private var state: [UInt32]
    /// Index of the next state word to temper; `stateSize` means "twist first".
    private var index: Int

    /// Seeds the state like `at::mt19937(seed)`, i.e. `init_genrand(UInt32(truncatingIfNeeded: seed))`.
    public init(seed: UInt64) {
        self.seed = seed
        var state = [UInt32](repeating: 0, count: Self.stateSize)
        state[0] = UInt32(truncatingIfNeeded: seed)
        for i in 1..<Self.stateSize {
            let previous = state[i - 1]
            state[i] = 1_812_433_253 &* (previous ^ (previous >> 30)) &+ UInt32(i)
        }
        self.state = state
        self.index = Self.stateSize
    }

    /// The next 32-bit output (torch `CPUGeneratorImpl::random()`).
    public mutating func next() -> UInt32 {
        if index == Self.stateSize { twist() }
        let word = state[index]
        index += 1
        return Self.temper(word)
    }

    /// The next 64-bit output (torch `CPUGeneratorImpl::random64()`): two 32-bit outputs, the
    /// first one in the high half.
    public mutating func next64() -> UInt64 {
        let high = UInt64(next())
        let low = UInt64(next())
        return high << 32 | low
    }

    /// Writes `buffer.count` uniform floats in [0, 1), one 32-bit output each, as
    /// `at::uniform_real_distribution<float>(0, 1)` does: `(next() & 0xFFFFFF) · 2⁻²⁴`.
    ///
    /// - Complexity: O(`buffer.count`), without allocating.
    mutating func fillUniformFloats(_ buffer: UnsafeMutableBufferPointer<Float>) {
        var written = 0
        while written < buffer.count {
            if index == Self.stateSize { twist() }
            let available = min(Self.stateSize - index, buffer.count - written)
            state.withUnsafeBufferPointer { words in
                for offset in 0..<available {
                    let bits = Self.temper(words[index + offset]) & 0x00FF_FFFF
                    buffer[written + offset] = Float(bits) * 0x1p-24
                }
            }
            index += available
            written += available
        }
    }

    @inline(__always)
    private static func temper(_ word: UInt32) -> UInt32 {
        var y = word
        y ^= y >> 11
        y ^= (y << 7) & 0x9d2c_5680
        y ^= (y << 15) & 0xefc6_0000
        y ^= y >> 18
        return y
    }

    /// Regenerates all 624 words (`next_state` in ATen).
    private mutating func twist() {
        let n = Self.stateSize, m = Self.shift
        state.withUnsafeMutableBufferPointer { s in
            for i in 0..<n {
                let next = s[i + 1 == n ? 0 : i + 1]
                let mixed = (s[i] & Self.upperMask) | (next & Self.lowerMask)
                let twisted = (mixed >> 1) ^ (next & 1 == 0 ? 0 : Self.matrixA)
                s[i] = s[i + m < n ? i + m : i + m - n] ^ twisted
            }
        }
        index = 0
    }
}
