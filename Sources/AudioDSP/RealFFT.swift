import CFFTW
import Foundation

/// Real-input FFTs of one length on FFTW (single precision), with plans made once per length
/// and shared by every thread.
///
/// FFTW's planner is not thread-safe, so plans are created under a lock; executing a plan on
/// other arrays (`fftwf_execute_dft_r2c`) is thread-safe, which is how every caller uses them.
/// `FFTW_ESTIMATE` plans are used so that results do not depend on timing measurements.
final class RealFFT: @unchecked Sendable {
    // @unchecked: the plans are immutable after init and FFTW's new-array execute is thread-safe.
    let size: Int
    private let forwardPlan: OpaquePointer
    private let inversePlan: OpaquePointer

    private static let lock = NSLock()
    nonisolated(unsafe) private static var cache: [Int: RealFFT] = [:]

    /// The shared transform for `size` (even, ≥ 2).
    static func of(size: Int) -> RealFFT {
        lock.lock()
        defer { lock.unlock() }
        if let cached = cache[size] { return cached }
        let made = RealFFT(size: size)
        cache[size] = made
        return made
    }

    private init(size: Int) {
        precondition(size >= 2 && size % 2 == 0, "RealFFT: size must be even")
        self.size = size
        let real = Self.allocateReal(size)
        let complex = Self.allocateComplex(size / 2 + 1)
        defer {
            fftwf_free(real)
            fftwf_free(complex)
        }
        let flags = UInt32(FFTW_ESTIMATE)
        guard let forward = fftwf_plan_dft_r2c_1d(Int32(size), real, complex, flags),
              let inverse = fftwf_plan_dft_c2r_1d(Int32(size), complex, real, flags)
        else { preconditionFailure("FFTW could not plan a transform of size \(size)") }
        forwardPlan = forward
        inversePlan = inverse
    }

    deinit {
        fftwf_destroy_plan(forwardPlan)
        fftwf_destroy_plan(inversePlan)
    }

    /// Scratch buffers with FFTW's alignment, for one thread.
    final class Buffers {
        let real: UnsafeMutablePointer<Float>
        let complex: UnsafeMutablePointer<fftwf_complex>
        let binCount: Int

        init(size: Int) {
            real = RealFFT.allocateReal(size)
            complex = RealFFT.allocateComplex(size / 2 + 1)
            binCount = size / 2 + 1
        }

        deinit {
            fftwf_free(real)
            fftwf_free(complex)
        }

        /// Bin `k` of the complex buffer as (real, imaginary).
        @inline(__always) func bin(_ k: Int) -> (Float, Float) { complex[k] }

        @inline(__always) func setBin(_ k: Int, _ value: (Float, Float)) { complex[k] = value }
    }

    func makeBuffers() -> Buffers { Buffers(size: size) }

    /// `buffers.complex = FFT(buffers.real)` (one-sided, unnormalised).
    func forward(_ buffers: Buffers) { fftwf_execute_dft_r2c(forwardPlan, buffers.real, buffers.complex) }

    /// `buffers.real = size · IFFT(buffers.complex)` (unnormalised; the complex buffer is destroyed).
    func inverse(_ buffers: Buffers) { fftwf_execute_dft_c2r(inversePlan, buffers.complex, buffers.real) }

    private static func allocateReal(_ count: Int) -> UnsafeMutablePointer<Float> {
        guard let raw = fftwf_malloc(count * MemoryLayout<Float>.stride) else {
            preconditionFailure("FFTW could not allocate \(count) floats")
        }
        return raw.bindMemory(to: Float.self, capacity: count)
    }

    private static func allocateComplex(_ count: Int) -> UnsafeMutablePointer<fftwf_complex> {
        guard let raw = fftwf_malloc(count * MemoryLayout<fftwf_complex>.stride) else {
            preconditionFailure("FFTW could not allocate \(count) complex values")
        }
        return raw.bindMemory(to: fftwf_complex.self, capacity: count)
    }
}
