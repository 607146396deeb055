// The exponentials of the attention's softmax, with AVX2 and AVX-512 intrinsics chosen at run time
// like the matrix products (gemm.c): at 4096 tokens a U-Net step takes 1.4 billion of them, a
// tenth of its time in Swift's 8-lane code. `exp` is Cephes' `expf` (range reduction by n·ln 2 in
// two parts, degree-5 polynomial, 2ⁿ applied exactly), as `VectorMath.exp` on the Swift side:
// relative error below 2 ulp on [−87.3, 88.7], 0 below, +∞ above.
#include "CKernels.h"

#include <math.h>

#if defined(__x86_64__)
#include <immintrin.h>

#define EXP_UPPER 88.72283f
#define EXP_LOWER -87.33654f

// The clamp of x, x·log₂e (rounded to n by the caller), the reduction r = x − n·ln 2 (ln 2 in two
// parts) and y = eʳ = 1 + r + r²·p(r), written once for both vector widths: P is the intrinsics'
// prefix, _mm256 or _mm512.
#define EXP_CLAMPED(P, x) P##_min_ps(P##_max_ps(x, P##_set1_ps(EXP_LOWER)), P##_set1_ps(EXP_UPPER))
#define EXP_LOG2(P, x) P##_mul_ps(x, P##_set1_ps(1.44269504f))
#define EXP_REDUCED(P, x, n) P##_fmadd_ps(n, P##_set1_ps(2.12194440e-4f), P##_fnmadd_ps(n, P##_set1_ps(0.693359375f), x))
#define EXP_POLYNOMIAL(P, r)                                                                                  \
    P##_fmadd_ps(P##_fmadd_ps(P##_fmadd_ps(P##_fmadd_ps(P##_fmadd_ps(P##_set1_ps(1.9875691500e-4f), r,          \
        P##_set1_ps(1.3981999507e-3f)), r, P##_set1_ps(8.3334519073e-3f)), r, P##_set1_ps(4.1665795894e-2f)), r, \
        P##_set1_ps(1.6666665459e-1f)), r, P##_set1_ps(5.0000001201e-1f))
#define EXP_OF_REDUCED(P, r) P##_add_ps(P##_fmadd_ps(P##_mul_ps(EXP_POLYNOMIAL(P, r), r), r, r), P##_set1_ps(1.0f))

__attribute__((target("avx512f")))
static inline __m512 exp_avx512(__m512 x) {
    const __m512 clamped = EXP_CLAMPED(_mm512, x);
    const __m512 n = _mm512_roundscale_ps(EXP_LOG2(_mm512, clamped), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 result = _mm512_scalef_ps(EXP_OF_REDUCED(_mm512, EXP_REDUCED(_mm512, clamped, n)), n);
    result = _mm512_mask_mov_ps(result, _mm512_cmp_ps_mask(x, _mm512_set1_ps(EXP_LOWER), _CMP_LT_OQ), _mm512_setzero_ps());
    return _mm512_mask_mov_ps(result, _mm512_cmp_ps_mask(x, _mm512_set1_ps(EXP_UPPER), _CMP_GT_OQ),
                              _mm512_set1_ps(INFINITY));
}

__attribute__((target("avx2,fma")))
static inline __m256 exp_avx2(__m256 x) {
    const __m256 clamped = EXP_CLAMPED(_mm256, x);
    const __m256 n = _mm256_round_ps(EXP_LOG2(_mm256, clamped), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    // 2ⁿ in the exponent bits: n is in [−126, 128], 2¹²⁸ only for inputs replaced by +∞ below.
    const __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    __m256 result = _mm256_mul_ps(EXP_OF_REDUCED(_mm256, EXP_REDUCED(_mm256, clamped, n)), _mm256_castsi256_ps(bits));
    result = _mm256_blendv_ps(result, _mm256_setzero_ps(), _mm256_cmp_ps(x, _mm256_set1_ps(EXP_LOWER), _CMP_LT_OQ));
    return _mm256_blendv_ps(result, _mm256_set1_ps(INFINITY), _mm256_cmp_ps(x, _mm256_set1_ps(EXP_UPPER), _CMP_GT_OQ));
}

__attribute__((target("avx512f")))
static float max_avx512(const float *values, ptrdiff_t count) {
    __m512 lanes = _mm512_set1_ps(-INFINITY);
    ptrdiff_t i = 0;
    for (; i + 16 <= count; i += 16) lanes = _mm512_max_ps(lanes, _mm512_loadu_ps(values + i));
    if (i < count) {
        const __mmask16 tail = (__mmask16)((1u << (count - i)) - 1);
        lanes = _mm512_mask_max_ps(lanes, tail, lanes, _mm512_maskz_loadu_ps(tail, values + i));
    }
    return _mm512_reduce_max_ps(lanes);
}

__attribute__((target("avx2,fma")))
static float max_avx2(const float *values, ptrdiff_t count) {
    __m256 lanes = _mm256_set1_ps(-INFINITY);
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) lanes = _mm256_max_ps(lanes, _mm256_loadu_ps(values + i));
    float result = -INFINITY, lane[8];
    _mm256_storeu_ps(lane, lanes);
    for (int l = 0; l < 8; l++) result = lane[l] > result ? lane[l] : result;
    for (; i < count; i++) result = values[i] > result ? values[i] : result;
    return result;
}

__attribute__((target("avx512f")))
static float exp_sum_avx512(float *values, ptrdiff_t count, float shift) {
    const __m512 center = _mm512_set1_ps(shift);
    __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
    ptrdiff_t i = 0;
    for (; i + 32 <= count; i += 32) {  // two independent chains
        const __m512 e0 = exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(values + i), center));
        const __m512 e1 = exp_avx512(_mm512_sub_ps(_mm512_loadu_ps(values + i + 16), center));
        _mm512_storeu_ps(values + i, e0);
        _mm512_storeu_ps(values + i + 16, e1);
        sum0 = _mm512_add_ps(sum0, e0);
        sum1 = _mm512_add_ps(sum1, e1);
    }
    for (; i < count; i += 16) {
        const __mmask16 part = count - i >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (count - i)) - 1);
        const __m512 e = exp_avx512(_mm512_sub_ps(_mm512_maskz_loadu_ps(part, values + i), center));
        _mm512_mask_storeu_ps(values + i, part, e);
        sum0 = _mm512_mask_add_ps(sum0, part, sum0, e);
    }
    return _mm512_reduce_add_ps(_mm512_add_ps(sum0, sum1));
}

__attribute__((target("avx2,fma")))
static float exp_sum_avx2(float *values, ptrdiff_t count, float shift) {
    const __m256 center = _mm256_set1_ps(shift);
    __m256 sum = _mm256_setzero_ps();
    ptrdiff_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const __m256 e = exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(values + i), center));
        _mm256_storeu_ps(values + i, e);
        sum = _mm256_add_ps(sum, e);
    }
    float result = 0, lane[8];
    if (i < count) {
        float tail[8] = {0};
        for (ptrdiff_t l = 0; l < count - i; l++) tail[l] = values[i + l];
        _mm256_storeu_ps(lane, exp_avx2(_mm256_sub_ps(_mm256_loadu_ps(tail), center)));
        for (ptrdiff_t l = 0; l < count - i; l++) {
            values[i + l] = lane[l];
            result += lane[l];
        }
    }
    _mm256_storeu_ps(lane, sum);
    for (int l = 0; l < 8; l++) result += lane[l];
    return result;
}

#endif

float ck_max(ck_isa isa, const float *values, ptrdiff_t count) {
#if defined(__x86_64__)
    return isa == CK_ISA_AVX512 ? max_avx512(values, count) : max_avx2(values, count);
#else
    (void)isa; (void)values; (void)count;
    return NAN;
#endif
}

float ck_exp_sum(ck_isa isa, float *values, ptrdiff_t count, float shift) {
#if defined(__x86_64__)
    return isa == CK_ISA_AVX512 ? exp_sum_avx512(values, count, shift) : exp_sum_avx2(values, count, shift);
#else
    (void)isa; (void)values; (void)count; (void)shift;
    return NAN;
#endif
}
