// Blocked matrix products (Goto & van de Geijn, "Anatomy of high-performance matrix
// multiplication", 2008): op(B) is packed in blocks of KC rows × NC columns, cut into panels of NR
// columns; op(A) in blocks of MC rows × KC, cut into panels of MR rows; a register-resident
// MR × NR tile of C accumulates one panel pair. A B panel (KC × NR) stays in L1 while the A panels
// of its block stream from L2. Each kernel carries its own target attribute, so this file builds
// for any x86-64 and the caller picks what the CPU runs (ck_cpu_features).
#include "CKernels.h"
#include "gemm_kind.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#include <cpuid.h>
#define CK_X86 1
#endif

// MARK: - CPU features

unsigned ck_cpu_features(void) {
#if CK_X86
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
    const int osxsave = (ecx >> 27) & 1, avx = (ecx >> 28) & 1, fma = (ecx >> 12) & 1;
    if (!osxsave || !avx) return 0;
    unsigned xcr0_low, xcr0_high;
    __asm__("xgetbv" : "=a"(xcr0_low), "=d"(xcr0_high) : "c"(0));
    const int ymm_state = (xcr0_low & 0x6) == 0x6, zmm_state = (xcr0_low & 0xE6) == 0xE6;
    if (!ymm_state || !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
    unsigned features = 0;
    const int avx2 = (ebx >> 5) & 1, avx512f = (ebx >> 16) & 1;
    if (avx2 && fma) features |= CK_FEATURE_AVX2;
    if (features && avx512f && zmm_state) features |= CK_FEATURE_AVX512;
    const int avx512bw = (ebx >> 30) & 1;
    if ((features & CK_FEATURE_AVX512) && avx512bw && __get_cpuid_count(7, 1, &eax, &ebx, &ecx, &edx) && ((eax >> 5) & 1)) {
        features |= CK_FEATURE_AVX512_BF16;
    }
    return features;
#else
    return 0;
#endif
}

void ck_cpu_vendor(char vendor[13]) {
    memset(vendor, 0, 13);
#if CK_X86
    unsigned eax, ebx, ecx, edx;
    if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return;
    memcpy(vendor, &ebx, 4);
    memcpy(vendor + 4, &edx, 4);
    memcpy(vendor + 8, &ecx, 4);
#endif
}

// MARK: - The blocked driver

/// An operand as the driver sees it: element (row, column) of op(X) is at
/// `base[row * row_step + column * column_step]`.
typedef struct {
    const float *base;
    ptrdiff_t row_step, column_step;
} operand;

/// Rounds `value` to bfloat16 as `VCVTNE2PS2BF16` does: to nearest, ties to even; subnormal inputs
/// become zero of the same sign, NaN stays a (quiet) NaN.
static uint16_t bfloat16(float value) {
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    if ((bits & 0x7F800000u) == 0) return (uint16_t)((bits >> 16) & 0x8000u);
    if ((bits & 0x7FFFFFFFu) > 0x7F800000u) return (uint16_t)((bits >> 16) | 0x0040u);
    return (uint16_t)((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

/// As floats, or as bfloat16 pairs when the kind packs pairs: the path for panels at the border
/// and unusual strides.
void ck_pack_elements(const gemm_kind *kind, const float *origin, ptrdiff_t lane_step, ptrdiff_t depth_step,
                      ptrdiff_t lanes, int width, ptrdiff_t kc, float *out) {
    if (!kind->bf16_pairs) {
        for (ptrdiff_t p = 0; p < kc; p++) {
            for (int l = 0; l < width; l++) out[p * width + l] = l < lanes ? origin[l * lane_step + p * depth_step] : 0.0f;
        }
        return;
    }
    uint32_t *slots = (uint32_t *)out;
    for (ptrdiff_t p = 0; p < kc; p += 2) {
        for (int l = 0; l < width; l++) {
            const float even = l < lanes ? origin[l * lane_step + p * depth_step] : 0.0f;
            const float odd = l < lanes && p + 1 < kc ? origin[l * lane_step + (p + 1) * depth_step] : 0.0f;
            slots[p / 2 * width + l] = (uint32_t)bfloat16(even) | (uint32_t)bfloat16(odd) << 16;
        }
    }
}

/// Packs rows [row, row + rows) × depth [depth, depth + kc) of op(A) into panels of MR rows, zero
/// rows past the end: through the kind's vector packers where the rows are contiguous or the panel whole.
static void pack_a(const gemm_kind *kind, const operand *a, ptrdiff_t row, ptrdiff_t rows, ptrdiff_t depth, ptrdiff_t kc,
                   float *packed) {
    const int mr = kind->mr;
    for (ptrdiff_t first = 0; first < rows; first += mr) {
        float *out = packed + first * ck_panel_depth(kind, kc);
        const ptrdiff_t height = rows - first < mr ? rows - first : mr;
        const float *origin = a->base + (row + first) * a->row_step + depth * a->column_step;
        if (a->row_step == 1) {  // op(A) = Aᵀ: each depth's rows are contiguous
            kind->pack_lanes(origin, a->column_step, kc, height, mr, out);
        } else if (a->column_step == 1 && height == mr) {
            kind->pack_rows(origin, a->row_step, kc, out);
        } else {
            ck_pack_elements(kind, origin, a->row_step, a->column_step, height, mr, kc, out);
        }
    }
}

/// Packs depth [depth, depth + kc) × columns [column, column + columns) of op(B) into panels of NR
/// columns, zero columns past the end: through the kind's vector packers where the columns are
/// contiguous or the panel whole.
static void pack_b(const gemm_kind *kind, const operand *b, ptrdiff_t depth, ptrdiff_t kc, ptrdiff_t column, ptrdiff_t columns,
                   float *packed) {
    const int nr = kind->nr;
    for (ptrdiff_t first = 0; first < columns; first += nr) {
        float *out = packed + first * ck_panel_depth(kind, kc);
        const ptrdiff_t width = columns - first < nr ? columns - first : nr;
        const float *origin = b->base + depth * b->row_step + (column + first) * b->column_step;
        if (b->column_step == 1) {  // untransposed: each depth's columns are contiguous
            kind->pack_lanes(origin, b->row_step, kc, width, nr, out);
        } else if (b->row_step == 1 && width == nr) {
            kind->pack_columns(origin, b->column_step, kc, out);
        } else {
            ck_pack_elements(kind, origin, b->column_step, b->row_step, width, nr, kc, out);
        }
    }
}

static void scale(float *c, ptrdiff_t ldc, ptrdiff_t m, ptrdiff_t n, float beta, const float *column_bias) {
    for (ptrdiff_t i = 0; i < m; i++) {
        for (ptrdiff_t j = 0; j < n; j++) {
            const float kept = beta == 0.0f ? 0.0f : beta * c[i * ldc + j];
            c[i * ldc + j] = column_bias ? kept + column_bias[j] : kept;
        }
    }
}

void ck_store_edge(const float *edge, int nr, float *tile, ptrdiff_t ldc, ptrdiff_t height, ptrdiff_t width, float beta,
                   const tile_epilogue *epilogue) {
    for (ptrdiff_t i = 0; i < height; i++) {
        for (ptrdiff_t j = 0; j < width; j++) {
            float *target = tile + i * ldc + j;
            // As the micro-kernels store a whole tile: one rounding for beta · target + sum.
            float value = beta == 0.0f ? edge[i * nr + j] : fmaf(*target, beta, edge[i * nr + j]);
            if (epilogue && epilogue->bias) value += epilogue->bias[i];
            if (epilogue && epilogue->residual) value += epilogue->residual[i * epilogue->ldr + j];
            if (epilogue && epilogue->column_bias) value += epilogue->column_bias[j];
            *target = value;
        }
    }
}

static int run(const gemm_kind *kind, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const operand *a,
               const operand *b, float beta, float *c, ptrdiff_t ldc, const float *column_bias) {
    if (m <= 0 || n <= 0) return 0;
    if (k <= 0 || alpha == 0.0f) {
        scale(c, ldc, m, n, beta, column_bias);
        return 0;
    }
    const int mr = kind->mr, nr = kind->nr;
    const ptrdiff_t kc_max = ck_depth_block(kind, k), mc_max = kind->mc, nc_max = kind->nc;
    const size_t a_count = (size_t)((mc_max + mr - 1) / mr * mr) * (size_t)ck_panel_depth(kind, kc_max);
    const size_t b_count = (size_t)((nc_max + nr - 1) / nr * nr) * (size_t)ck_panel_depth(kind, kc_max);
    float *scratch = aligned_alloc(64, sizeof(float) * (a_count + b_count));
    if (!scratch) return -1;
    float *packed_a = scratch, *packed_b = scratch + a_count;
    float edge[32 * 32];  // an MR × NR tile at the right or bottom border
    for (ptrdiff_t jc = 0; jc < n; jc += nc_max) {
        const ptrdiff_t nc = n - jc < nc_max ? n - jc : nc_max;
        for (ptrdiff_t pc = 0; pc < k; pc += kc_max) {
            const ptrdiff_t kc = k - pc < kc_max ? k - pc : kc_max;
            const float block_beta = pc == 0 ? beta : 1.0f;
            const int last = pc + kc >= k;
            const ptrdiff_t slots = ck_panel_depth(kind, kc);
            pack_b(kind, b, pc, kc, jc, nc, packed_b);
            for (ptrdiff_t ic = 0; ic < m; ic += mc_max) {
                const ptrdiff_t mc = m - ic < mc_max ? m - ic : mc_max;
                pack_a(kind, a, ic, mc, pc, kc, packed_a);
                for (ptrdiff_t jr = 0; jr < nc; jr += nr) {
                    const float *b_panel = packed_b + jr * slots;
                    const ptrdiff_t width = nc - jr < nr ? nc - jr : nr;
                    // The bias joins the sums once they are whole: after the last block of depths.
                    const tile_epilogue epilogue = {NULL, NULL, 0, column_bias ? column_bias + jc + jr : NULL};
                    const tile_epilogue *finish = last && column_bias ? &epilogue : NULL;
                    for (ptrdiff_t ir = 0; ir < mc; ir += mr) {
                        const float *a_panel = packed_a + ir * slots;
                        const ptrdiff_t height = mc - ir < mr ? mc - ir : mr;
                        float *tile = c + (ic + ir) * ldc + jc + jr;
                        if (height == mr && width == nr) {
                            kind->micro(kc, a_panel, b_panel, tile, ldc, alpha, block_beta, finish);
                            continue;
                        }
                        kind->micro(kc, a_panel, b_panel, edge, nr, alpha, 0.0f, NULL);
                        ck_store_edge(edge, nr, tile, ldc, height, width, block_beta, finish);
                    }
                }
            }
        }
    }
    free(scratch);
    return 0;
}

// MARK: - Micro-kernels

#if CK_X86

/// AVX2: a 6 × 16 tile in 12 ymm accumulators.
__attribute__((target("avx2,fma")))
static void micro_avx2(ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc, float alpha, float beta,
                       const tile_epilogue *epilogue) {
    __m256 acc[6][2];
    for (int r = 0; r < 6; r++) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    for (ptrdiff_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        for (int r = 0; r < 6; r++) {
            const __m256 x = _mm256_broadcast_ss(a + r);
            acc[r][0] = _mm256_fmadd_ps(x, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(x, b1, acc[r][1]);
        }
        a += 6;
        b += 16;
    }
    const __m256 scale_by = _mm256_set1_ps(alpha), keep = _mm256_set1_ps(beta);
    for (int r = 0; r < 6; r++) {
        for (int half = 0; half < 2; half++) {
            float *target = c + r * ldc + half * 8;
            __m256 value = _mm256_mul_ps(acc[r][half], scale_by);
            if (beta != 0.0f) value = _mm256_fmadd_ps(_mm256_loadu_ps(target), keep, value);
            if (epilogue && epilogue->bias) value = _mm256_add_ps(value, _mm256_set1_ps(epilogue->bias[r]));
            if (epilogue && epilogue->residual) {
                value = _mm256_add_ps(value, _mm256_loadu_ps(epilogue->residual + r * epilogue->ldr + half * 8));
            }
            if (epilogue && epilogue->column_bias) value = _mm256_add_ps(value, _mm256_loadu_ps(epilogue->column_bias + half * 8));
            _mm256_storeu_ps(target, value);
        }
    }
}

/// AVX-512: the accumulators of a tile are named registers, not an array: clang zeroed an array
/// through memset on the stack and reloaded it, a tenth of the time of the attention's short
/// (k = 40) products. The tile of C is prefetched while the sums run.
#define ROWS12(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define DECLARE_TILE_ROW(r) __m512 acc##r##_0 = _mm512_setzero_ps(), acc##r##_1 = _mm512_setzero_ps(); \
    _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0); _mm_prefetch((const char *)(c + r * ldc + 16), _MM_HINT_T0);
#define STORE_TILE_ROW(r) store_row_avx512(c + r * ldc, acc##r##_0, acc##r##_1, r, alpha, beta, epilogue);

/// Writes row `r` of an AVX-512 tile, the sums `v0` (columns 0–15) and `v1` (16–31):
/// `alpha · sums (+ beta · target)`, then the epilogue.
__attribute__((target("avx512f"), always_inline))
static inline void store_row_avx512(float *target, __m512 v0, __m512 v1, int r, float alpha, float beta,
                                    const tile_epilogue *epilogue) {
    const __m512 scale_by = _mm512_set1_ps(alpha);
    v0 = _mm512_mul_ps(v0, scale_by);
    v1 = _mm512_mul_ps(v1, scale_by);
    if (beta != 0.0f) {
        const __m512 keep = _mm512_set1_ps(beta);
        v0 = _mm512_fmadd_ps(_mm512_loadu_ps(target), keep, v0);
        v1 = _mm512_fmadd_ps(_mm512_loadu_ps(target + 16), keep, v1);
    }
    if (epilogue && epilogue->bias) {
        const __m512 shift = _mm512_set1_ps(epilogue->bias[r]);
        v0 = _mm512_add_ps(v0, shift);
        v1 = _mm512_add_ps(v1, shift);
    }
    if (epilogue && epilogue->residual) {
        const float *extra = epilogue->residual + r * epilogue->ldr;
        v0 = _mm512_add_ps(v0, _mm512_loadu_ps(extra));
        v1 = _mm512_add_ps(v1, _mm512_loadu_ps(extra + 16));
    }
    if (epilogue && epilogue->column_bias) {
        v0 = _mm512_add_ps(v0, _mm512_loadu_ps(epilogue->column_bias));
        v1 = _mm512_add_ps(v1, _mm512_loadu_ps(epilogue->column_bias + 16));
    }
    _mm512_storeu_ps(target, v0);
    _mm512_storeu_ps(target + 16, v1);
}

/// The float AVX-512 micro-kernels: an MR × 32 tile (`ROWS` lists the MR rows) in 2·MR zmm
/// accumulators, each depth one broadcast of A per row and two loads of B for 2·MR FMAs.
///
/// The 12-row one is the products' own. The 8-row one is for products of few rows that are a
/// multiple of 8 but not of 12. The attention's `Vᵀ · Pᵀ` has 40 rows at the U-Net's top level:
/// 3⅓ tiles of 12, so a sixth of its 12-row products were wasted. With eight broadcasts and two
/// loads per 16 FMAs the 8-row tile stays bound by the FMAs, as the 12-row one is. Either way each
/// element's sum is the same.
#define ROWS8(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define FMA_TILE_ROW(r) { const __m512 x = _mm512_set1_ps(a[r]); \
    acc##r##_0 = _mm512_fmadd_ps(x, b0, acc##r##_0); acc##r##_1 = _mm512_fmadd_ps(x, b1, acc##r##_1); }
#define FLOAT_MICRO_AVX512(name, ROWS, mr)                                                                             \
    __attribute__((target("avx512f"))) static void name(ptrdiff_t kc, const float *a, const float *b, float *c,      \
                                                        ptrdiff_t ldc, float alpha, float beta,                      \
                                                        const tile_epilogue *epilogue) {                             \
        ROWS(DECLARE_TILE_ROW)                                                                                        \
        for (ptrdiff_t p = 0; p < kc; p++) {                                                                          \
            const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);                                         \
            ROWS(FMA_TILE_ROW)                                                                                        \
            a += mr;                                                                                                  \
            b += 32;                                                                                                  \
        }                                                                                                             \
        ROWS(STORE_TILE_ROW)                                                                                          \
    }
FLOAT_MICRO_AVX512(micro_avx512, ROWS12, 12)
FLOAT_MICRO_AVX512(micro_avx512_rows8, ROWS8, 8)
#undef FLOAT_MICRO_AVX512
#undef FMA_TILE_ROW
#undef ROWS8

/// AVX-512 BF16: the 12 × 32 tile of `micro_avx512` from panels of bfloat16 pairs, each
/// `VDPBF16PS` adding two depths' products to the float32 sums: twice the multiplies per
/// instruction, at the FMA's rate on AMD Zen 4 (205 against 105 GFLOP/s on one core, L1-resident
/// panels; on an Intel Xeon it issued at half the rate and gained nothing, docs/compute.md).
__attribute__((target("avx512f,avx512bf16")))
static void micro_avx512_bf16(ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc, float alpha,
                              float beta, const tile_epilogue *epilogue) {
    const uint32_t *pairs_a = (const uint32_t *)a;
    ROWS12(DECLARE_TILE_ROW)
    for (ptrdiff_t q = 0; q < (kc + 1) / 2; q++) {
        const __m512bh b0 = (__m512bh)_mm512_load_si512(b), b1 = (__m512bh)_mm512_load_si512(b + 16);
#define STEP(r) { const __m512bh x = (__m512bh)_mm512_set1_epi32((int)pairs_a[r]); \
        acc##r##_0 = _mm512_dpbf16_ps(acc##r##_0, x, b0); acc##r##_1 = _mm512_dpbf16_ps(acc##r##_1, x, b1); }
        ROWS12(STEP)
#undef STEP
        pairs_a += 12;
        b += 32;
    }
    ROWS12(STORE_TILE_ROW)
}
#undef STORE_TILE_ROW
#undef DECLARE_TILE_ROW
#undef ROWS12

/// Transposes the 8 × 8 block in `r` (row i becomes column i), in registers.
__attribute__((target("avx2,fma")))
static inline void transpose8_avx2(__m256 r[8]) {
    __m256 t[8], u[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
        u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xEE);
        u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 4; i++) {
        r[i] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(u[i], u[i + 4], 0x31);
    }
}

/// Transposes the 16 × 16 block in `r` (row i becomes column i), in registers.
__attribute__((target("avx512f")))
static inline void transpose16_avx512(__m512 r[16]) {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 16; i += 4) {
        r[i] = _mm512_shuffle_ps(t[i], t[i + 2], 0x44);
        r[i + 1] = _mm512_shuffle_ps(t[i], t[i + 2], 0xEE);
        r[i + 2] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0x44);
        r[i + 3] = _mm512_shuffle_ps(t[i + 1], t[i + 3], 0xEE);
    }
    for (int i = 0; i < 16; i += 8) {  // 128-bit lanes: 0 2 from each of two, then 1 3
        for (int j = 0; j < 4; j++) {
            t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0x88);
            t[i + j + 4] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0xDD);
        }
    }
    for (int j = 0; j < 8; j++) {
        r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
        r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xDD);
    }
}

// The packers below read 8 or 16 consecutive depths of each row (or column) and transpose them in
// registers. They replaced one vector gather per depth: on this Xeon the gathers cost a fifth of
// the time of the attention's P·V products, whose A operand is re-packed for only 40 columns.

/// AVX2 row packing: 6 rows (and 2 zero rows) of 8 depths, transposed, stored 6 lanes per depth.
__attribute__((target("avx2,fma")))
static void pack_rows_avx2(const float *origin, ptrdiff_t lda, ptrdiff_t kc, float *out) {
    const __m256i six = _mm256_setr_epi32(-1, -1, -1, -1, -1, -1, 0, 0);
    ptrdiff_t p = 0;
    for (; p + 8 <= kc; p += 8) {
        __m256 r[8];
        for (int i = 0; i < 6; i++) r[i] = _mm256_loadu_ps(origin + i * lda + p);
        r[6] = r[7] = _mm256_setzero_ps();
        transpose8_avx2(r);
        for (int j = 0; j < 8; j++) _mm256_maskstore_ps(out + (p + j) * 6, six, r[j]);
    }
    for (; p < kc; p++) {
        for (int i = 0; i < 6; i++) out[p * 6 + i] = origin[i * lda + p];
    }
}

/// AVX-512 row packing of a panel of `mr` ≤ 16 rows: `mr` rows (and zero rows up to 16) of 16
/// depths at a time, transposed, stored `mr` lanes per depth.
__attribute__((target("avx512f"), always_inline))
static inline void pack_rows_avx512_of(int mr, const float *origin, ptrdiff_t lda, ptrdiff_t kc, float *out) {
    ptrdiff_t p = 0;
    for (; p + 16 <= kc; p += 16) {
        __m512 r[16];
        for (int i = 0; i < 16; i++) r[i] = i < mr ? _mm512_loadu_ps(origin + i * lda + p) : _mm512_setzero_ps();
        transpose16_avx512(r);
        for (int j = 0; j < 16; j++) _mm512_mask_storeu_ps(out + (p + j) * mr, (__mmask16)((1u << mr) - 1), r[j]);
    }
    for (; p < kc; p++) {
        for (int i = 0; i < mr; i++) out[p * mr + i] = origin[i * lda + p];
    }
}

__attribute__((target("avx512f")))
static void pack_rows_avx512(const float *origin, ptrdiff_t lda, ptrdiff_t kc, float *out) {
    pack_rows_avx512_of(12, origin, lda, kc, out);
}

__attribute__((target("avx512f")))
static void pack_rows_avx512_rows8(const float *origin, ptrdiff_t lda, ptrdiff_t kc, float *out) {
    pack_rows_avx512_of(8, origin, lda, kc, out);
}

/// AVX2 column packing: 16 columns of 8 depths, as two transposed 8 × 8 blocks.
__attribute__((target("avx2,fma")))
static void pack_columns_avx2(const float *origin, ptrdiff_t ldb, ptrdiff_t kc, float *out) {
    ptrdiff_t p = 0;
    for (; p + 8 <= kc; p += 8) {
        for (int half = 0; half < 2; half++) {
            __m256 r[8];
            for (int j = 0; j < 8; j++) r[j] = _mm256_loadu_ps(origin + (half * 8 + j) * ldb + p);
            transpose8_avx2(r);
            for (int d = 0; d < 8; d++) _mm256_store_ps(out + (p + d) * 16 + half * 8, r[d]);
        }
    }
    for (; p < kc; p++) {
        for (int j = 0; j < 16; j++) out[p * 16 + j] = origin[j * ldb + p];
    }
}

/// AVX-512 column packing: 32 columns of 16 depths, as two transposed 16 × 16 blocks.
__attribute__((target("avx512f")))
static void pack_columns_avx512(const float *origin, ptrdiff_t ldb, ptrdiff_t kc, float *out) {
    ptrdiff_t p = 0;
    for (; p + 16 <= kc; p += 16) {
        for (int half = 0; half < 2; half++) {
            __m512 r[16];
            for (int j = 0; j < 16; j++) r[j] = _mm512_loadu_ps(origin + (half * 16 + j) * ldb + p);
            transpose16_avx512(r);
            for (int d = 0; d < 16; d++) _mm512_store_ps(out + (p + d) * 32 + half * 16, r[d]);
        }
    }
    for (; p < kc; p++) {
        for (int j = 0; j < 32; j++) out[p * 32 + j] = origin[j * ldb + p];
    }
}

// The float lane packers copy each depth's lanes (contiguous in memory) with masked vector loads
// and stores, the lanes past `lanes` zero. A `memcpy` per depth (24 to 128 bytes) cost a call each:
// 3 % of a full-size U-Net step and of the embedded model's generation.

/// AVX2 lane packing: pieces of 8 lanes, at most 4 (width ≤ 32).
__attribute__((target("avx2,fma")))
static void pack_lanes_avx2(const float *origin, ptrdiff_t ld, ptrdiff_t kc, ptrdiff_t lanes, int width, float *out) {
    const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const int pieces = (width + 7) / 8;
    __m256i valid[4], stored[4];
    for (int i = 0; i < pieces; i++) {
        const ptrdiff_t count = lanes - i * 8;
        valid[i] = _mm256_cmpgt_epi32(_mm256_set1_epi32(count < 0 ? 0 : count > 8 ? 8 : (int)count), index);
        stored[i] = _mm256_cmpgt_epi32(_mm256_set1_epi32(width - i * 8 > 8 ? 8 : width - i * 8), index);
    }
    for (ptrdiff_t p = 0; p < kc; p++) {
        for (int i = 0; i < pieces; i++) {   // a piece past `lanes` is zero, its address never formed
            const __m256 value = lanes > i * 8 ? _mm256_maskload_ps(origin + p * ld + i * 8, valid[i]) : _mm256_setzero_ps();
            _mm256_maskstore_ps(out + p * width + i * 8, stored[i], value);
        }
    }
}

/// AVX-512 lane packing: pieces of 16 lanes, at most 2 (width ≤ 32).
__attribute__((target("avx512f")))
static void pack_lanes_avx512(const float *origin, ptrdiff_t ld, ptrdiff_t kc, ptrdiff_t lanes, int width, float *out) {
    const int pieces = (width + 15) / 16;
    __mmask16 valid[2], stored[2];
    for (int i = 0; i < pieces; i++) {
        const ptrdiff_t count = lanes - i * 16;
        valid[i] = count <= 0 ? 0 : count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1);
        stored[i] = width - i * 16 >= 16 ? 0xFFFF : (__mmask16)((1u << (width - i * 16)) - 1);
    }
    for (ptrdiff_t p = 0; p < kc; p++) {
        for (int i = 0; i < pieces; i++) {   // a piece past `lanes` is zero, its address never formed
            const __m512 value = lanes > i * 16 ? _mm512_maskz_loadu_ps(valid[i], origin + p * ld + i * 16) : _mm512_setzero_ps();
            _mm512_mask_storeu_ps(out + p * width + i * 16, stored[i], value);
        }
    }
}

// The bfloat16 packers round each float once (`VCVTNE2PS2BF16`, to nearest even) and store two
// consecutive depths per 32-bit slot, so the transposes above move pairs as they moved floats.

/// Rounds 32 consecutive depths (from `source`, `count` ≤ 32 of them, the rest zero) to 16 slots.
__attribute__((target("avx512f,avx512bf16")))
static inline __m512 depth_pairs(const float *source, ptrdiff_t count) {
    const __mmask16 low = count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1);
    const __mmask16 high = count >= 32 ? 0xFFFF : count <= 16 ? 0 : (__mmask16)((1u << (count - 16)) - 1);
    const __m512 first = _mm512_maskz_loadu_ps(low, source), second = _mm512_maskz_loadu_ps(high, source + 16);
    return _mm512_castsi512_ps((__m512i)_mm512_cvtne2ps_pbh(second, first));
}

/// Row packing: 12 rows (and 4 zero rows) of 32 depths as 16 slots, transposed, 12 lanes per slot.
__attribute__((target("avx512f,avx512bf16")))
static void pack_rows_avx512_bf16(const float *origin, ptrdiff_t lda, ptrdiff_t kc, float *out) {
    for (ptrdiff_t p = 0; p < kc; p += 32) {
        const ptrdiff_t count = kc - p < 32 ? kc - p : 32;
        __m512 r[16];
        for (int i = 0; i < 12; i++) r[i] = depth_pairs(origin + i * lda + p, count);
        r[12] = r[13] = r[14] = r[15] = _mm512_setzero_ps();
        transpose16_avx512(r);
        for (ptrdiff_t q = 0; q < (count + 1) / 2; q++) _mm512_mask_storeu_ps(out + (p / 2 + q) * 12, 0x0FFF, r[q]);
    }
}

/// Column packing: 32 columns of 32 depths as 16 slots, as two transposed 16 × 16 blocks.
__attribute__((target("avx512f,avx512bf16")))
static void pack_columns_avx512_bf16(const float *origin, ptrdiff_t ldb, ptrdiff_t kc, float *out) {
    for (ptrdiff_t p = 0; p < kc; p += 32) {
        const ptrdiff_t count = kc - p < 32 ? kc - p : 32;
        for (int half = 0; half < 2; half++) {
            __m512 r[16];
            for (int j = 0; j < 16; j++) r[j] = depth_pairs(origin + (half * 16 + j) * ldb + p, count);
            transpose16_avx512(r);
            for (ptrdiff_t q = 0; q < (count + 1) / 2; q++) _mm512_storeu_ps(out + (p / 2 + q) * 32 + half * 16, r[q]);
        }
    }
}

/// Lane packing: for each pair of depth rows, 16 lanes at a time, the two rows rounded together and
/// their bfloat16 halves interleaved into slots (`VPERMW`).
__attribute__((target("avx512f,avx512bw,avx512bf16")))
static void pack_lanes_avx512_bf16(const float *origin, ptrdiff_t ld, ptrdiff_t kc, ptrdiff_t lanes, int width, float *out) {
    const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8,
                                                23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    for (ptrdiff_t p = 0; p < kc; p += 2) {
        for (int first = 0; first < width; first += 16) {
            const ptrdiff_t count = lanes - first < 16 ? lanes - first : 16;
            const __mmask16 valid = count <= 0 ? 0 : count >= 16 ? 0xFFFF : (__mmask16)((1u << count) - 1);
            const __mmask16 stored = width - first >= 16 ? 0xFFFF : (__mmask16)((1u << (width - first)) - 1);
            const __m512 even = _mm512_maskz_loadu_ps(valid, origin + p * ld + first);
            const __m512 odd = p + 1 < kc ? _mm512_maskz_loadu_ps(valid, origin + (p + 1) * ld + first) : _mm512_setzero_ps();
            const __m512i pairs = _mm512_permutexvar_epi16(interleave, (__m512i)_mm512_cvtne2ps_pbh(odd, even));
            _mm512_mask_storeu_epi32(out + p / 2 * width + first, stored, pairs);
        }
    }
}

static const gemm_kind avx2_kind = {6, 16, 256, 120, 4096, 0, micro_avx2, pack_rows_avx2, pack_columns_avx2, pack_lanes_avx2};
static const gemm_kind avx512_kind = {12, 32, 256, 240, 4096, 0, micro_avx512, pack_rows_avx512, pack_columns_avx512,
                                      pack_lanes_avx512};
static const gemm_kind avx512_rows8_kind = {8, 32, 256, 240, 4096, 0, micro_avx512_rows8, pack_rows_avx512_rows8,
                                            pack_columns_avx512, pack_lanes_avx512};
/// Twice the depths of the float kinds per block: the same bytes of panel in L1.
static const gemm_kind avx512_bf16_kind = {12, 32, 512, 240, 4096, 1, micro_avx512_bf16, pack_rows_avx512_bf16,
                                           pack_columns_avx512_bf16, pack_lanes_avx512_bf16};

#endif

// MARK: - Entry points

static operand make_operand(const float *base, int transposed, ptrdiff_t leading) {
    operand x = {base, transposed ? 1 : leading, transposed ? leading : 1};
    return x;
}

const gemm_kind *ck_gemm_kind(ck_isa isa) {
#if CK_X86
    return isa == CK_ISA_AVX512 ? &avx512_kind : &avx2_kind;
#else
    (void)isa;
    return NULL;
#endif
}

const gemm_kind *ck_gemm_kind_rows8(ck_isa isa) {
#if CK_X86
    return isa == CK_ISA_AVX512 ? &avx512_rows8_kind : NULL;
#else
    (void)isa;
    return NULL;
#endif
}

/// The float kind for a product of `m` rows: AVX-512's 8-row tiles where they fit the rows exactly
/// and 12-row ones would not, for products of few rows (where a partial tile is a real share of
/// the work), else the instruction set's own. `m` is what one thread runs: `BLAS.sgemm` cuts a
/// large product into a block of rows per thread, so with 8 threads the top level's 8192-row
/// linear layers (1024 rows each) take 8-row tiles too; on 512-row linear layers they ran as fast
/// as 12-row ones (docs/compute.md). The sums are the same either way.
static const gemm_kind *float_kind(ck_isa isa, ptrdiff_t m) {
    const gemm_kind *rows8 = ck_gemm_kind_rows8(isa);
    return rows8 && m <= 1024 && m % 8 == 0 && m % 12 != 0 ? rows8 : ck_gemm_kind(isa);
}

const gemm_kind *ck_gemm_kind_bf16(void) {
#if CK_X86
    return &avx512_bf16_kind;
#else
    return NULL;
#endif
}

int ck_sgemm(ck_isa isa, int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
             float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
             float beta, float *c, ptrdiff_t ldc, const float *column_bias) {
#if CK_X86
    const operand op_a = make_operand(a, transpose_a, lda), op_b = make_operand(b, transpose_b, ldb);
    return run(float_kind(isa, m), m, n, k, alpha, &op_a, &op_b, beta, c, ldc, column_bias);
#else
    (void)isa; (void)transpose_a; (void)transpose_b; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda;
    (void)b; (void)ldb; (void)beta; (void)c; (void)ldc; (void)column_bias;
    return -1;
#endif
}

int ck_sgemm_bf16(int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                  ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc, const float *column_bias) {
#if CK_X86
    const operand op_a = make_operand(a, transpose_a, lda), op_b = make_operand(b, transpose_b, ldb);
    return run(ck_gemm_kind_bf16(), m, n, k, alpha, &op_a, &op_b, beta, c, ldc, column_bias);
#else
    (void)transpose_a; (void)transpose_b; (void)m; (void)n; (void)k; (void)alpha; (void)a; (void)lda;
    (void)b; (void)ldb; (void)beta; (void)c; (void)ldc; (void)column_bias;
    return -1;
#endif
}
