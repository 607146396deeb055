// 1-D convolutions (stride 1, any dilation d and kernel size k ≥ 3) by Winograd's minimal filtering
// F(4, 3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2015) on the kernel cut
// into three-tap pieces. Piece h holds taps 3h, 3h + 1, 3h + 2 (zero past k); a tile is four
// outputs d apart, q + t·d (t < 4), and piece h of it needs the six inputs q − p + (3h + i)·d
// (i < 6). Per tile, channel pair and piece, F(4, 3) makes six products instead of twelve:
//
//   U[ξ][o][h·C + c] = (G g)[ξ]          g = the piece's three taps of w[o, c, ·]
//   V[ξ][h·C + c][tile] = (Bᵀ x)[ξ]       x = the piece's six inputs of channel c
//   M[ξ] = U[ξ] · V[ξ]                    six matrix products of depth ⌈k/3⌉·C
//   y[o, q + t·d] = (Aᵀ M[·][o][tile])[t] + bias[o] + residual[o, q + t·d]
//
// so a 3-, 7- and 11-tap convolution costs the products of 1.5, 4.5 and 6 taps. The matrix products
// run on gemm.c's micro-kernels; V is computed panel by panel as the kernels consume it, as
// convolution.c packs its columns.
//
// The tiles of d outputs apart are d interleaved combs. The input is first rearranged
// (`ck_winograd1d_split`) into rows of one phase r < 4d, `X[c][r][n] = f(x[c, 4d·n + r − p])`
// (f: leaky ReLU or the identity; zero outside the signal), so that the six inputs of NR tiles
// q = 4d·n + φ (n consecutive, φ < d fixed) are six contiguous runs of NR values and a panel of V is
// vector arithmetic. Groups of 4d outputs hold d tiles, one per phase φ.
//
// The result differs from the direct sum by rounding alone: the transforms multiply by constants
// up to 8 (Aᵀ) and 1/24 (G), so it rounds a few times as much as the direct convolution.
#include "CKernels.h"
#include "gemm_kind.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

/// G of F(4, 3) at the points 0, 1, −1, 2, −2 and ∞ (Bᵀ and Aᵀ are written out where they apply).
static const double transform_filter[6][3] = {
    {1.0 / 4, 0, 0}, {-1.0 / 6, -1.0 / 6, -1.0 / 6}, {-1.0 / 6, 1.0 / 6, -1.0 / 6},
    {1.0 / 24, 1.0 / 12, 1.0 / 6}, {1.0 / 24, -1.0 / 12, 1.0 / 6}, {0, 0, 1},
};

/// The widest register tile of any kind (AVX-512: 32): the split rows run this far past the last group.
enum { widest_panel = 32 };

/// Where the tiles and the split input lie.
typedef struct {
    ptrdiff_t period;   ///< 4d: outputs per group, phases of the split input
    ptrdiff_t pieces;   ///< ⌈k / 3⌉
    ptrdiff_t groups;   ///< ⌈L′ / 4d⌉
    ptrdiff_t columns;  ///< values per split row: every group, a whole panel past the last, the pieces' reach
} layout;

static layout make_layout(const ck_conv_shape *shape) {
    layout l;
    l.period = 4 * shape->dilation;
    l.pieces = (shape->kernel_width + 2) / 3;
    l.groups = (shape->out_width + l.period - 1) / l.period;
    // The last input of a tile: phase d − 1, piece ⌈k/3⌉ − 1, i = 5.
    const ptrdiff_t reach = (shape->dilation - 1 + (3 * l.pieces + 2) * shape->dilation) / l.period;
    l.columns = l.groups + widest_panel + reach + 1;
    return l;
}

ptrdiff_t ck_winograd1d_groups(const ck_conv_shape *shape) { return make_layout(shape).groups; }

ptrdiff_t ck_winograd1d_split_size(const ck_conv_shape *shape) {
    const layout l = make_layout(shape);
    return shape->channels * l.period * l.columns;
}

/// Split row `r` of one channel, values [first, last) of it, one at a time.
static inline void split_values(const ck_conv_shape *shape, const layout *l, const float *signal, ptrdiff_t r, ptrdiff_t first,
                                ptrdiff_t last, float *row) {
    for (ptrdiff_t n = first; n < last; n++) {
        const ptrdiff_t at = l->period * n + r - shape->padding_width;
        float value = at >= 0 && at < shape->width ? signal[at] : 0.0f;
        if (shape->leaky && !(value >= 0.0f)) value *= shape->slope;
        row[n] = value;
    }
}

#if defined(__x86_64__)
/// The AVX-512 split: sixteen values of a row per gather where all lie inside the signal.
__attribute__((target("avx512f")))
static void split_channel_avx512(const ck_conv_shape *shape, const layout *l, const float *signal, float *rows) {
    const __m512i steps = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32((int)l->period));
    const __m512 slope = _mm512_set1_ps(shape->slope), zero = _mm512_setzero_ps();
    for (ptrdiff_t r = 0; r < l->period; r++) {
        float *row = rows + r * l->columns;
        // Values n with 0 ≤ period·n + r − p and period·(n + 15) + r − p < width.
        const ptrdiff_t shift = r - shape->padding_width;
        ptrdiff_t first = shift >= 0 ? 0 : (-shift + l->period - 1) / l->period;
        if (first > l->columns) first = l->columns;
        split_values(shape, l, signal, r, 0, first, row);
        ptrdiff_t n = first;
        if (l->period == 4) {
            // Every fourth value from 64 consecutive ones: two two-source permutes and a lane shuffle.
            // The 64 start at 4n − p, inside the signal only from n = ⌈p / 4⌉ on.
            const ptrdiff_t start = (shape->padding_width + 3) / 4;
            if (n < start && start <= l->columns) {
                split_values(shape, l, signal, r, n, start, row);
                n = start;
            }
            const __m512i pick = _mm512_setr_epi32((int)r, (int)r + 4, (int)r + 8, (int)r + 12, (int)r + 16, (int)r + 20,
                                                   (int)r + 24, (int)r + 28, 0, 0, 0, 0, 0, 0, 0, 0);
            for (; n + 16 <= l->columns && 4 * (n + 15) + r - shape->padding_width < shape->width &&
                   4 * n - shape->padding_width + 64 <= shape->width; n += 16) {
                const float *source = signal + 4 * n - shape->padding_width;
                const __m512 low = _mm512_permutex2var_ps(_mm512_loadu_ps(source), pick, _mm512_loadu_ps(source + 16));
                const __m512 high = _mm512_permutex2var_ps(_mm512_loadu_ps(source + 32), pick, _mm512_loadu_ps(source + 48));
                __m512 value = _mm512_shuffle_f32x4(low, high, 0x44);
                if (shape->leaky) value = _mm512_mask_mul_ps(value, _mm512_cmp_ps_mask(value, zero, _CMP_NGE_UQ), value, slope);
                _mm512_storeu_ps(row + n, value);
            }
        }
        for (; n + 16 <= l->columns && l->period * (n + 15) + shift < shape->width; n += 16) {
            __m512 value = _mm512_i32gather_ps(steps, signal + l->period * n + shift, 4);
            if (shape->leaky) value = _mm512_mask_mul_ps(value, _mm512_cmp_ps_mask(value, zero, _CMP_NGE_UQ), value, slope);
            _mm512_storeu_ps(row + n, value);
        }
        split_values(shape, l, signal, r, n, l->columns, row);
    }
}
#endif

void ck_winograd1d_split(ck_isa isa, const ck_conv_shape *shape, const float *input, ptrdiff_t first_channel,
                         ptrdiff_t channel_count, float *split) {
    const layout l = make_layout(shape);
    for (ptrdiff_t c = first_channel; c < first_channel + channel_count; c++) {
        const float *signal = input + c * shape->width;
        float *rows = split + c * l.period * l.columns;
#if defined(__x86_64__)
        if (isa == CK_ISA_AVX512 && l.period * 16 <= (ptrdiff_t)1 << 30) {
            split_channel_avx512(shape, &l, signal, rows);
            continue;
        }
#endif
        for (ptrdiff_t r = 0; r < l.period; r++) split_values(shape, &l, signal, r, 0, l.columns, rows + r * l.columns);
    }
}

/// Sixteen floats at any alignment; each instruction set's wrapper below compiles the arithmetic on
/// them to its own vectors (one zmm, or two ymm).
typedef float lanes16 __attribute__((vector_size(64), aligned(4)));

/// Where the six inputs of piece h of the tiles of phase `phase` lie in a channel's split rows:
/// `offsets[6h + i]` (i < 6), relative to the channel's first row and the panel's first group.
static void input_offsets(const ck_conv_shape *shape, const layout *l, ptrdiff_t phase, ptrdiff_t *offsets) {
    for (ptrdiff_t piece = 0; piece < l->pieces; piece++) {
        for (int i = 0; i < 6; i++) {
            const ptrdiff_t s = phase + (3 * piece + i) * shape->dilation;
            offsets[6 * piece + i] = s % l->period * l->columns + s / l->period;
        }
    }
}

/// The panels `[kc][nr]` of V[0…5] for depths [depth, depth + kc) (depth = h·C + c) of the `width`
/// tiles (whole panels) whose inputs start at `split` (the first tile's group) and `offsets` (their
/// phase): Bᵀ applied to the six inputs of each tile, sixteen tiles at a time. V[ξ]'s panels follow
/// one another from `out + ξ · kc · width`.
__attribute__((always_inline))
static inline void pack_transformed(const ck_conv_shape *shape, const layout *l, const float *split, const ptrdiff_t *offsets,
                                    ptrdiff_t depth, ptrdiff_t kc, ptrdiff_t width, int nr, float *out) {
    const ptrdiff_t channel_size = l->period * l->columns, matrix = kc * width;
    ptrdiff_t piece = depth / shape->channels, channel = depth % shape->channels;
    for (ptrdiff_t p = 0; p < kc; p++) {
        const float *base = split + channel * channel_size;
        const ptrdiff_t *at = offsets + 6 * piece;
        for (ptrdiff_t lane = 0; lane < width; lane += 16) {
            const lanes16 x0 = *(const lanes16 *)(base + at[0] + lane), x1 = *(const lanes16 *)(base + at[1] + lane);
            const lanes16 x2 = *(const lanes16 *)(base + at[2] + lane), x3 = *(const lanes16 *)(base + at[3] + lane);
            const lanes16 x4 = *(const lanes16 *)(base + at[4] + lane), x5 = *(const lanes16 *)(base + at[5] + lane);
            const lanes16 difference31 = x3 - x1, difference42 = x4 - x2;
            float *v = out + lane / nr * nr * kc + p * nr + lane % nr;
            *(lanes16 *)v = 4.0f * x0 - 5.0f * x2 + x4;
            *(lanes16 *)(v + matrix) = (x3 + x4) - 4.0f * (x1 + x2);
            *(lanes16 *)(v + 2 * matrix) = (x4 - x3) + 4.0f * (x1 - x2);
            *(lanes16 *)(v + 3 * matrix) = difference42 + 2.0f * difference31;
            *(lanes16 *)(v + 4 * matrix) = difference42 - 2.0f * difference31;
            *(lanes16 *)(v + 5 * matrix) = 4.0f * x1 - 5.0f * x3 + x5;
        }
        if (++channel == shape->channels) {
            channel = 0;
            piece++;
        }
    }
}

/// y = Aᵀ M for output row `o` of tiles [first, tiles), whose products lie `matrix` apart from `m0`:
/// `ys[t · stride + lane]`, output t of tile `lane`.
__attribute__((always_inline))
static inline void transform_outputs(const float *m0, ptrdiff_t matrix, ptrdiff_t first, ptrdiff_t tiles, float *ys,
                                     ptrdiff_t stride) {
    for (ptrdiff_t lane = first; lane < tiles; lane++) {
        const float a = m0[matrix + lane] + m0[2 * matrix + lane], b = m0[matrix + lane] - m0[2 * matrix + lane];
        const float c = m0[3 * matrix + lane] + m0[4 * matrix + lane], d = m0[3 * matrix + lane] - m0[4 * matrix + lane];
        ys[lane] = m0[lane] + a + c;
        ys[stride + lane] = b + 2.0f * d;
        ys[2 * stride + lane] = a + 4.0f * c;
        ys[3 * stride + lane] = b + 8.0f * d + m0[5 * matrix + lane];
    }
}

/// Output t of tile `lane` plus bias and residual, stored where it lies inside the output, one at a time.
static inline void store_values(const ck_conv_shape *shape, const layout *l, const float *ys, ptrdiff_t stride,
                                ptrdiff_t first_lane, ptrdiff_t tiles, ptrdiff_t phase, ptrdiff_t group, float shift,
                                const float *extra, float *target) {
    for (ptrdiff_t lane = first_lane; lane < tiles; lane++) {
        const ptrdiff_t first = l->period * (group + lane) + phase;
        for (int t = 0; t < 4; t++) {
            const ptrdiff_t at = first + t * shape->dilation;
            if (at >= shape->out_width) break;
            float value = ys[t * stride + lane] + shift;
            if (extra) value += extra[at];
            target[at] = value;
        }
    }
}

#if defined(__x86_64__)
/// `out[k]` = values 16k … 16k + 15 of the interleaving y0[0] y1[0] y2[0] y3[0] y0[1] …: rows of a
/// 4 × 16 matrix become the columns of four consecutive vectors.
__attribute__((target("avx512f"), always_inline))
static inline void transpose4x16(__m512 y0, __m512 y1, __m512 y2, __m512 y3, __m512 out[4]) {
    const __m512 a = _mm512_unpacklo_ps(y0, y1), b = _mm512_unpackhi_ps(y0, y1);
    const __m512 c = _mm512_unpacklo_ps(y2, y3), e = _mm512_unpackhi_ps(y2, y3);
    // Each 128-bit lane of p_j holds the four outputs of tiles j, j + 4, j + 8, j + 12.
    const __m512 p0 = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(a), _mm512_castps_pd(c)));
    const __m512 p1 = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(a), _mm512_castps_pd(c)));
    const __m512 p2 = _mm512_castpd_ps(_mm512_unpacklo_pd(_mm512_castps_pd(b), _mm512_castps_pd(e)));
    const __m512 p3 = _mm512_castpd_ps(_mm512_unpackhi_pd(_mm512_castps_pd(b), _mm512_castps_pd(e)));
    const __m512 q0 = _mm512_shuffle_f32x4(p0, p1, 0x44), q1 = _mm512_shuffle_f32x4(p0, p1, 0xEE);
    const __m512 q2 = _mm512_shuffle_f32x4(p2, p3, 0x44), q3 = _mm512_shuffle_f32x4(p2, p3, 0xEE);
    out[0] = _mm512_shuffle_f32x4(q0, q2, 0x88);
    out[1] = _mm512_shuffle_f32x4(q0, q2, 0xDD);
    out[2] = _mm512_shuffle_f32x4(q1, q3, 0x88);
    out[3] = _mm512_shuffle_f32x4(q1, q3, 0xDD);
}

/// The outputs of rows [0, outputs) of the `tiles` tiles of phase `phase` from group `group` on, whose
/// products lie `block` apart in `products` (six matrices of `rows` rows), plus bias and residual;
/// `ys` holds 4 · block floats. Outputs past the end of the signal are not written. AVX-512: the
/// four outputs of sixteen tiles are scattered (they lie 4d apart), with the residual gathered.
__attribute__((target("avx512f")))
static void store_outputs_avx512(const ck_conv_shape *shape, const layout *l, const float *products, ptrdiff_t rows,
                                 ptrdiff_t block, ptrdiff_t outputs, ptrdiff_t tiles, ptrdiff_t phase, ptrdiff_t group,
                                 const float *bias, const float *residual, float *output, float *ys) {
    const ptrdiff_t ldc = shape->out_width;
    const __m512i steps = _mm512_mullo_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                             _mm512_set1_epi32((int)l->period));
    // Whole vectors of sixteen tiles whose four outputs all lie inside the output.
    ptrdiff_t whole = 0;
    while (whole + 16 <= tiles && l->period * (group + whole + 15) + phase + 3 * shape->dilation < ldc) whole += 16;
    const ptrdiff_t matrix = rows * block;
    for (ptrdiff_t o = 0; o < outputs; o++) {
        const float *m0 = products + o * block;
        const float shift = bias ? bias[o] : 0.0f;
        float *target = output + o * ldc;
        const float *extra = residual ? residual + o * ldc : NULL;
        for (ptrdiff_t lane = 0; lane < whole; lane += 16) {
            // Aᵀ M for sixteen tiles, in registers (the arithmetic of transform_outputs).
            const lanes16 p0 = *(const lanes16 *)(m0 + lane), p1 = *(const lanes16 *)(m0 + matrix + lane);
            const lanes16 p2 = *(const lanes16 *)(m0 + 2 * matrix + lane), p3 = *(const lanes16 *)(m0 + 3 * matrix + lane);
            const lanes16 p4 = *(const lanes16 *)(m0 + 4 * matrix + lane), p5 = *(const lanes16 *)(m0 + 5 * matrix + lane);
            const lanes16 a = p1 + p2, b = p1 - p2, c = p3 + p4, d = p3 - p4;
            __m512 y[4] = {(__m512)(p0 + a + c), (__m512)(b + 2.0f * d), (__m512)(a + 4.0f * c), (__m512)(b + 8.0f * d + p5)};
            if (shape->dilation == 1) {
                // Tiles of four consecutive outputs: the four outputs of sixteen tiles are 64
                // consecutive values, a 4 × 16 transpose in registers.
                __m512 rows4[4];
                transpose4x16(y[0], y[1], y[2], y[3], rows4);
                const ptrdiff_t first = 4 * (group + lane);
                for (int k = 0; k < 4; k++) {
                    __m512 value = _mm512_add_ps(rows4[k], _mm512_set1_ps(shift));
                    if (extra) value = _mm512_add_ps(value, _mm512_loadu_ps(extra + first + 16 * k));
                    _mm512_storeu_ps(target + first + 16 * k, value);
                }
                continue;
            }
            for (int t = 0; t < 4; t++) {
                const ptrdiff_t first = l->period * (group + lane) + phase + t * shape->dilation;
                __m512 value = _mm512_add_ps(y[t], _mm512_set1_ps(shift));
                if (extra) value = _mm512_add_ps(value, _mm512_i32gather_ps(steps, extra + first, 4));
                _mm512_i32scatter_ps(target + first, steps, value, 4);
            }
        }
        transform_outputs(m0, matrix, whole, tiles, ys, block);
        store_values(shape, l, ys, block, whole, tiles, phase, group, shift, extra, target);
    }
}

/// The same with AVX2, one output at a time.
__attribute__((target("avx2,fma")))
static void store_outputs_avx2(const ck_conv_shape *shape, const layout *l, const float *products, ptrdiff_t rows,
                               ptrdiff_t block, ptrdiff_t outputs, ptrdiff_t tiles, ptrdiff_t phase, ptrdiff_t group,
                               const float *bias, const float *residual, float *output, float *ys) {
    for (ptrdiff_t o = 0; o < outputs; o++) {
        transform_outputs(products + o * block, rows * block, 0, tiles, ys, block);
        store_values(shape, l, ys, block, 0, tiles, phase, group, bias ? bias[o] : 0.0f,
                     residual ? residual + o * shape->out_width : NULL, output + o * shape->out_width);
    }
}
#endif

#if defined(__x86_64__)
__attribute__((target("avx512f")))
static void pack_transformed_avx512(const ck_conv_shape *shape, const layout *l, const float *split, const ptrdiff_t *offsets,
                                    ptrdiff_t depth, ptrdiff_t kc, ptrdiff_t width, float *out) {
    pack_transformed(shape, l, split, offsets, depth, kc, width, 32, out);
}

__attribute__((target("avx2,fma")))
static void pack_transformed_avx2(const ck_conv_shape *shape, const layout *l, const float *split, const ptrdiff_t *offsets,
                                  ptrdiff_t depth, ptrdiff_t kc, ptrdiff_t width, float *out) {
    pack_transformed(shape, l, split, offsets, depth, kc, width, 16, out);
}
#endif

ptrdiff_t ck_winograd1d_filter_size(const ck_conv_shape *shape) {
    return 6 * shape->outputs * make_layout(shape).pieces * shape->channels;
}

void ck_winograd1d_filter(const ck_conv_shape *shape, const float *weight, float *filter) {
    const layout l = make_layout(shape);
    const ptrdiff_t k = shape->kernel_width, depth_count = l.pieces * shape->channels, matrix = shape->outputs * depth_count;
    for (ptrdiff_t o = 0; o < shape->outputs; o++) {
        for (ptrdiff_t c = 0; c < shape->channels; c++) {
            const float *taps = weight + (o * shape->channels + c) * k;
            for (ptrdiff_t piece = 0; piece < l.pieces; piece++) {
                double g[3];
                for (int j = 0; j < 3; j++) g[j] = 3 * piece + j < k ? taps[3 * piece + j] : 0.0;
                float *u = filter + o * depth_count + piece * shape->channels + c;
                for (int xi = 0; xi < 6; xi++) {
                    u[xi * matrix] = (float)(transform_filter[xi][0] * g[0] + transform_filter[xi][1] * g[1] +
                                             transform_filter[xi][2] * g[2]);
                }
            }
        }
    }
}

/// Depths per block of the products: each panel of weights (MR × 128) stays in L1 while it meets
/// every panel of V of its block.
enum { depth_block = 128 };

/// The kind the products of `shape` run on with `isa`: AVX-512's 8 × 32 tiles where the output
/// channels are a multiple of 8 but not of 12 (the vocoder's 32- and 64-channel stages fill no
/// whole 12-row tile: an eighth of the products wasted; the vocoder took 5 % less time with them,
/// its 128- and 256-channel stages included), else the matrix products' own.
static const gemm_kind *products_kind(ck_isa isa, const ck_conv_shape *shape) {
    const gemm_kind *rows8 = ck_gemm_kind_rows8(isa);
    return rows8 && shape->outputs % 8 == 0 && shape->outputs % 12 != 0 ? rows8 : ck_gemm_kind(isa);
}

/// Floats of one packed U[ξ] of `outputs` rows (rounded up to 64 bytes).
static ptrdiff_t packed_count(const gemm_kind *kind, const layout *l, const ck_conv_shape *shape, ptrdiff_t outputs) {
    return ((outputs + kind->mr - 1) / kind->mr * kind->mr * l->pieces * shape->channels + 15) / 16 * 16;
}

ptrdiff_t ck_winograd1d_packed_size(ck_isa isa, const ck_conv_shape *shape) {
    const gemm_kind *kind = products_kind(isa, shape);
    if (!kind) return 0;
    const layout l = make_layout(shape);
    return 6 * packed_count(kind, &l, shape, shape->outputs);
}

/// Packs U[0…5] of rows [first, first + outputs) of `filter` into `packed` (each `packed_count` apart).
static void pack_filter(const gemm_kind *kind, const layout *l, const ck_conv_shape *shape, const float *filter,
                        ptrdiff_t first, ptrdiff_t outputs, float *packed) {
    const ptrdiff_t depth_count = l->pieces * shape->channels, count = packed_count(kind, l, shape, outputs);
    for (int xi = 0; xi < 6; xi++) {
        ck_pack_weight(kind, depth_block, filter + (xi * shape->outputs + first) * depth_count, outputs, depth_count,
                       (outputs + kind->mr - 1) / kind->mr, packed + xi * count);
    }
}

int ck_winograd1d_pack(ck_isa isa, const ck_conv_shape *shape, const float *filter, float *packed) {
    const gemm_kind *kind = products_kind(isa, shape);
    if (!kind) return -1;
    const layout l = make_layout(shape);
    pack_filter(kind, &l, shape, filter, 0, shape->outputs, packed);
    return 0;
}

int ck_winograd1d(ck_isa isa, const ck_conv_shape *shape, const float *filter, const float *packed, const float *bias,
                  const float *split, const float *residual, float *output, ck_conv_range range) {
#if defined(__x86_64__)
    const gemm_kind *kind = products_kind(isa, shape);
    if (!kind || shape->stride != 1 || shape->kernel_width < 3) return -1;
    const layout l = make_layout(shape);
    const int mr = kind->mr, nr = kind->nr;
    const ptrdiff_t depth_count = l.pieces * shape->channels, ldc = shape->out_width, outputs = range.output_count;
    if (outputs <= 0 || range.position_count <= 0) return 0;
    output += range.first_output * ldc;
    if (bias) bias += range.first_output;
    if (residual) residual += range.first_output * ldc;
    const ptrdiff_t panels = (outputs + mr - 1) / mr, rows = panels * mr;
    // Tiles in blocks whose six products (6 × rows × block) and six panels of V (6 × depth_block ×
    // block) stay in L2, with 128 depths per block: each panel of weights (MR × 128) then stays in
    // L1 while it meets every panel of V of its block.
    ptrdiff_t block = (ptrdiff_t)(128 << 10) / (6 * rows);
    if (block > (ptrdiff_t)(96 << 10) / (6 * depth_block)) block = (ptrdiff_t)(96 << 10) / (6 * depth_block);
    block = block < nr ? nr : block / nr * nr;
    // The filter packed for this instruction set when the caller has it for every output channel.
    const int whole = packed && range.first_output == 0 && outputs == shape->outputs;
    const ptrdiff_t u_count = packed_count(kind, &l, shape, outputs), v_count = 6 * depth_block * block;
    const ptrdiff_t m_count = 6 * rows * block, scratch_count = 4 * block, own_count = whole ? 0 : 6 * u_count;
    float *memory = aligned_alloc(64, sizeof(float) * (size_t)(own_count + v_count + m_count + scratch_count + 16));
    ptrdiff_t *offsets = malloc(sizeof(ptrdiff_t) * (size_t)(6 * l.pieces));
    if (!memory || !offsets) {
        free(memory);
        free(offsets);
        return -1;
    }
    float *packed_u = whole ? (float *)packed : memory, *packed_v = memory + own_count, *products = packed_v + v_count;
    float *scratch = products + m_count;
    if (!whole) pack_filter(kind, &l, shape, filter, range.first_output, outputs, packed_u);
    const ptrdiff_t end = range.first_position + range.position_count;
    for (ptrdiff_t phase = 0; phase < shape->dilation; phase++) {
        input_offsets(shape, &l, phase, offsets);
        for (ptrdiff_t jc = range.first_position; jc < end; jc += block) {
            const ptrdiff_t tiles = end - jc < block ? end - jc : block, width = (tiles + nr - 1) / nr * nr;
            for (ptrdiff_t pc = 0; pc < depth_count; pc += depth_block) {
                const ptrdiff_t kc = depth_count - pc < depth_block ? depth_count - pc : depth_block;
                const float beta = pc == 0 ? 0.0f : 1.0f;
                if (isa == CK_ISA_AVX512) pack_transformed_avx512(shape, &l, split + jc, offsets, pc, kc, width, packed_v);
                else pack_transformed_avx2(shape, &l, split + jc, offsets, pc, kc, width, packed_v);
                for (int xi = 0; xi < 6; xi++) {
                    const float *u = packed_u + xi * u_count + pc * rows, *v = packed_v + xi * kc * width;
                    float *m = products + xi * rows * block;
                    for (ptrdiff_t panel = 0; panel < panels; panel++) {
                        for (ptrdiff_t jr = 0; jr < width; jr += nr) {
                            kind->micro(kc, u + panel * mr * kc, v + jr * kc, m + panel * mr * block + jr, block, 1.0f, beta, NULL);
                        }
                    }
                }
            }
            if (isa == CK_ISA_AVX512) {
                store_outputs_avx512(shape, &l, products, rows, block, outputs, tiles, phase, jc, bias, residual, output, scratch);
            } else {
                store_outputs_avx2(shape, &l, products, rows, block, outputs, tiles, phase, jc, bias, residual, output, scratch);
            }
        }
    }
    free(offsets);
    free(memory);
    return 0;
#else
    (void)isa; (void)shape; (void)weight; (void)bias; (void)split; (void)residual; (void)output; (void)range;
    return -1;
#endif
}
