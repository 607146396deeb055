// Convolutions as matrix products that never materialise their im2col columns:
// `y[o, q] = Σ_{c, i, j} w[o, (c·kh + i)·kw + j] · x[c, y·s − ph + i·d, x·s − pw + j·d]` for the
// output position q = (y, x) is the product of the weight `[O, C·kh·kw]` with columns
// `[C·kh·kw, H′·W′]`, and each packed panel of those columns (a block of depths × NR positions) is read
// straight from the image, through leaky ReLU when the layer applies one to its input. The bias
// and a residual are added as the last block of each tile is stored. A 1-D convolution is the
// case H = kh = 1, ph = 0. The HiFi-GAN vocoder spent half its time writing and re-reading im2col
// columns (225 MB per convolution of its last stage) and on separate passes for the activations,
// the bias and the residual adds.
//
// The sums are the matrix product's (gemm.c), in the same order: depth (c·kh + i)·kw + j, in
// blocks of `ck_depth_block` added to the tile one after the other; then `+ bias`, then `+ residual`, each
// rounded. So the result is the one im2col, `ck_sgemm`, a bias pass and a residual pass give, to
// the bit.
#include "CKernels.h"
#include "gemm_kind.h"

#include <stdint.h>

#if defined(__x86_64__)
#include <immintrin.h>

/// `x ≥ 0 ? x : slope · x`, as `Tensor.leakyReLU` computes it.
static inline float leaky(float x, float slope) { return x >= 0.0f ? x : x * slope; }

/// Packs depths [depth, depth + kc) × positions [position, position + count) of the implicit
/// columns into one panel `[kc][nr]`, zero past `count` and outside the image: the scalar path, for
/// borders, strides other than 1 and panels that are narrow or span two output rows.
static void pack_scalar(const ck_conv_shape *shape, const float *image, ptrdiff_t depth, ptrdiff_t kc,
                        ptrdiff_t position, ptrdiff_t count, int nr, float *out) {
    const ptrdiff_t taps = shape->kernel_height * shape->kernel_width;
    for (ptrdiff_t p = 0; p < kc; p++) {
        const ptrdiff_t channel = (depth + p) / taps, tap = (depth + p) % taps;
        const ptrdiff_t row_offset = tap / shape->kernel_width * shape->dilation - shape->padding_height;
        const ptrdiff_t column_offset = tap % shape->kernel_width * shape->dilation - shape->padding_width;
        const float *plane = image + channel * shape->height * shape->width;
        ptrdiff_t y = position / shape->out_width, x = position % shape->out_width;
        for (int lane = 0; lane < nr; lane++) {
            const ptrdiff_t row = y * shape->stride + row_offset, column = x * shape->stride + column_offset;
            float value = 0.0f;
            if (lane < count && row >= 0 && row < shape->height && column >= 0 && column < shape->width) {
                value = plane[row * shape->width + column];
                if (shape->leaky) value = leaky(value, shape->slope);
            }
            out[p * nr + lane] = value;
            if (++x == shape->out_width) {
                x = 0;
                y++;
            }
        }
    }
}

/// The panel packing of both instruction sets. A panel of NR positions inside one output row (stride
/// 1) reads, for each depth, NR consecutive values of one image row: copied by `row` (vector loads,
/// through leaky ReLU when the layer asks for it) where they lie inside the image, zeros where the
/// image row is outside it, the scalar path at the left and right borders. Inlined into each
/// instruction set's packer with its own `row`.
__attribute__((always_inline))
static inline void pack_panel(const ck_conv_shape *shape, const float *image, ptrdiff_t depth, ptrdiff_t kc,
                              ptrdiff_t position, ptrdiff_t count, int nr, float *out,
                              void (*row)(const float *source, float *out, const ck_conv_shape *shape)) {
    const ptrdiff_t y = position / shape->out_width, x = position % shape->out_width;
    if (shape->stride != 1 || count != nr || x + nr > shape->out_width) {
        pack_scalar(shape, image, depth, kc, position, count, nr, out);
        return;
    }
    const ptrdiff_t taps = shape->kernel_height * shape->kernel_width;
    ptrdiff_t channel = depth / taps, i = depth % taps / shape->kernel_width, j = depth % shape->kernel_width;
    for (ptrdiff_t p = 0; p < kc; p++) {
        const ptrdiff_t source_row = y - shape->padding_height + i * shape->dilation;
        const ptrdiff_t start = x - shape->padding_width + j * shape->dilation;
        if (source_row < 0 || source_row >= shape->height) {
            for (int lane = 0; lane < nr; lane++) out[p * nr + lane] = 0.0f;
        } else if (start >= 0 && start + nr <= shape->width) {
            row(image + (channel * shape->height + source_row) * shape->width + start, out + p * nr, shape);
        } else {
            pack_scalar(shape, image, depth + p, 1, position, count, nr, out + p * nr);
        }
        if (++j == shape->kernel_width) {
            j = 0;
            if (++i == shape->kernel_height) {
                i = 0;
                channel++;
            }
        }
    }
}

/// 32 values as two AVX-512 vectors; leaky ReLU multiplies where !(x ≥ 0), NaN included, as the scalar form.
__attribute__((target("avx512f"), always_inline))
static inline void row_avx512(const float *source, float *out, const ck_conv_shape *shape) {
    __m512 low = _mm512_loadu_ps(source), high = _mm512_loadu_ps(source + 16);
    if (shape->leaky) {
        const __m512 slope = _mm512_set1_ps(shape->slope), zero = _mm512_setzero_ps();
        low = _mm512_mask_mul_ps(low, _mm512_cmp_ps_mask(low, zero, _CMP_NGE_UQ), low, slope);
        high = _mm512_mask_mul_ps(high, _mm512_cmp_ps_mask(high, zero, _CMP_NGE_UQ), high, slope);
    }
    _mm512_store_ps(out, low);
    _mm512_store_ps(out + 16, high);
}

/// 16 values as two AVX2 vectors, likewise.
__attribute__((target("avx2,fma"), always_inline))
static inline void row_avx2(const float *source, float *out, const ck_conv_shape *shape) {
    __m256 low = _mm256_loadu_ps(source), high = _mm256_loadu_ps(source + 8);
    if (shape->leaky) {
        const __m256 slope = _mm256_set1_ps(shape->slope), zero = _mm256_setzero_ps();
        low = _mm256_blendv_ps(low, _mm256_mul_ps(low, slope), _mm256_cmp_ps(low, zero, _CMP_NGE_UQ));
        high = _mm256_blendv_ps(high, _mm256_mul_ps(high, slope), _mm256_cmp_ps(high, zero, _CMP_NGE_UQ));
    }
    _mm256_store_ps(out, low);
    _mm256_store_ps(out + 8, high);
}

__attribute__((target("avx512f")))
static void pack_panel_avx512(const ck_conv_shape *shape, const float *image, ptrdiff_t depth, ptrdiff_t kc,
                              ptrdiff_t position, ptrdiff_t count, float *out) {
    pack_panel(shape, image, depth, kc, position, count, 32, out, row_avx512);
}

__attribute__((target("avx2,fma")))
static void pack_panel_avx2(const ck_conv_shape *shape, const float *image, ptrdiff_t depth, ptrdiff_t kc,
                            ptrdiff_t position, ptrdiff_t count, float *out) {
    pack_panel(shape, image, depth, kc, position, count, 16, out, row_avx2);
}

#endif

void ck_pack_weight(const gemm_kind *kind, ptrdiff_t block_depth, const float *weight, ptrdiff_t outputs,
                    ptrdiff_t depth_count, ptrdiff_t panels, float *packed) {
    const int mr = kind->mr;
    for (ptrdiff_t depth = 0; depth < depth_count; depth += block_depth) {
        const ptrdiff_t kc = depth_count - depth < block_depth ? depth_count - depth : block_depth;
        float *block = packed + ck_panel_depth(kind, depth) * panels * mr;
        for (ptrdiff_t panel = 0; panel < panels; panel++) {
            const ptrdiff_t row = panel * mr, height = outputs - row < mr ? outputs - row : mr;
            const float *origin = weight + row * depth_count + depth;
            float *out = block + panel * mr * ck_panel_depth(kind, kc);
            if (height == mr) {
                kind->pack_rows(origin, depth_count, kc, out);
            } else {
                ck_pack_elements(kind, origin, depth_count, 1, height, mr, kc, out);
            }
        }
    }
}

/// Output positions per block of C: about 512 KB of it, so that the block stays in L2 while every
/// depth block is added to it.
static ptrdiff_t block_columns(const gemm_kind *kind, ptrdiff_t outputs) {
    const ptrdiff_t columns = (ptrdiff_t)(128 << 10) / outputs / kind->nr * kind->nr;
    return columns > kind->nr ? columns : kind->nr;
}

/// The packed weight rows of `range` (rounded up to 64 bytes: the panel of columns after it is
/// stored with aligned vectors), in floats.
static size_t packed_weight_count(const gemm_kind *kind, const ck_conv_shape *shape, ck_conv_range range) {
    const ptrdiff_t depth_count = shape->channels * shape->kernel_height * shape->kernel_width;
    const ptrdiff_t panels = (range.output_count + kind->mr - 1) / kind->mr;
    return (size_t)((panels * kind->mr * ck_panel_depth(kind, depth_count) + 15) / 16 * 16);
}

/// Floats of `conv`'s scratch: the packed weight, a panel of columns (and its float staging for
/// bfloat16 pairs), an edge tile, and 16 floats to align the start to 64 bytes.
static size_t conv_scratch_count(const gemm_kind *kind, const ck_conv_shape *shape, ck_conv_range range) {
    const ptrdiff_t depth_block = ck_depth_block(kind, shape->channels * shape->kernel_height * shape->kernel_width);
    const size_t b_count = (size_t)(depth_block * kind->nr), staging_count = kind->bf16_pairs ? b_count : 0;
    return packed_weight_count(kind, shape, range) + b_count + staging_count + (size_t)(kind->mr * kind->nr) + 16;
}

/// The convolution of `ck_conv` with `kind`'s micro-kernels; `pack_panel` packs a panel of columns
/// as floats (`[kc][nr]`), which a kind of bfloat16 pairs then rounds into its own layout.
static int conv(const gemm_kind *kind, void (*pack_panel)(const ck_conv_shape *, const float *, ptrdiff_t, ptrdiff_t, ptrdiff_t, ptrdiff_t, float *),
                const ck_conv_shape *shape, const float *weight, const float *bias, const float *input, const float *residual,
                float *output, ck_conv_range range, float *scratch) {
    const int mr = kind->mr, nr = kind->nr;
    const ptrdiff_t depth_count = shape->channels * shape->kernel_height * shape->kernel_width;
    const ptrdiff_t ldc = shape->out_height * shape->out_width, outputs = range.output_count;
    if (outputs <= 0 || range.position_count <= 0) return 0;
    // Only this range's rows of the weight, bias, output and residual.
    weight += range.first_output * depth_count;
    output += range.first_output * ldc;
    if (bias) bias += range.first_output;
    if (residual) residual += range.first_output * ldc;
    const ptrdiff_t panels = (outputs + mr - 1) / mr, nc = block_columns(kind, outputs);
    const size_t a_count = packed_weight_count(kind, shape, range);
    const ptrdiff_t depth_block = ck_depth_block(kind, depth_count);
    const size_t b_count = (size_t)(depth_block * nr), staging_count = kind->bf16_pairs ? b_count : 0;
    float *packed_a = (float *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
    float *panel_b = packed_a + a_count, *staging = panel_b + b_count, *edge = staging + staging_count;
    ck_pack_weight(kind, depth_block, weight, outputs, depth_count, panels, packed_a);
    const ptrdiff_t end = range.first_position + range.position_count;
    for (ptrdiff_t jc = range.first_position; jc < end; jc += nc) {
        const ptrdiff_t columns = end - jc < nc ? end - jc : nc;
        for (ptrdiff_t pc = 0; pc < depth_count; pc += depth_block) {
            const ptrdiff_t kc = depth_count - pc < depth_block ? depth_count - pc : depth_block, slots = ck_panel_depth(kind, kc);
            const float beta = pc == 0 ? 0.0f : 1.0f;
            const int last = pc + kc == depth_count;
            for (ptrdiff_t jr = jc; jr < jc + columns; jr += nr) {
                const ptrdiff_t width = jc + columns - jr < nr ? jc + columns - jr : nr;
                if (kind->bf16_pairs) {
                    pack_panel(shape, input, pc, kc, jr, width, staging);
                    kind->pack_lanes(staging, nr, kc, nr, nr, panel_b);
                } else {
                    pack_panel(shape, input, pc, kc, jr, width, panel_b);
                }
                for (ptrdiff_t panel = 0; panel < panels; panel++) {
                    const ptrdiff_t row = panel * mr, height = outputs - row < mr ? outputs - row : mr;
                    const float *a_panel = packed_a + ck_panel_depth(kind, pc) * panels * mr + panel * mr * slots;
                    float *tile = output + row * ldc + jr;
                    const tile_epilogue epilogue = {bias ? bias + row : NULL, residual ? residual + row * ldc + jr : NULL, ldc, NULL};
                    const tile_epilogue *finish = last && (bias || residual) ? &epilogue : NULL;
                    if (height == mr && width == nr) {
                        kind->micro(kc, a_panel, panel_b, tile, ldc, 1.0f, beta, finish);
                        continue;
                    }
                    kind->micro(kc, a_panel, panel_b, edge, nr, 1.0f, 0.0f, NULL);
                    ck_store_edge(edge, nr, tile, ldc, height, width, beta, finish);
                }
            }
        }
    }
    return 0;
}

size_t ck_conv_scratch_count(ck_isa isa, int bfloat16, const ck_conv_shape *shape, ck_conv_range range) {
#if defined(__x86_64__)
    return conv_scratch_count(bfloat16 ? ck_gemm_kind_bf16() : ck_gemm_kind(isa), shape, range);
#else
    (void)isa; (void)bfloat16; (void)shape; (void)range;
    return 0;
#endif
}

int ck_conv(ck_isa isa, const ck_conv_shape *shape, const float *weight, const float *bias, const float *input,
            const float *residual, float *output, ck_conv_range range, float *scratch) {
#if defined(__x86_64__)
    return conv(ck_gemm_kind(isa), isa == CK_ISA_AVX512 ? pack_panel_avx512 : pack_panel_avx2, shape, weight, bias, input,
                residual, output, range, scratch);
#else
    (void)isa; (void)shape; (void)weight; (void)bias; (void)input; (void)residual; (void)output; (void)range; (void)scratch;
    return -1;
#endif
}

int ck_conv_bf16(const ck_conv_shape *shape, const float *weight, const float *bias, const float *input,
                 const float *residual, float *output, ck_conv_range range, float *scratch) {
#if defined(__x86_64__)
    return conv(ck_gemm_kind_bf16(), pack_panel_avx512, shape, weight, bias, input, residual, output, range, scratch);
#else
    (void)shape; (void)weight; (void)bias; (void)input; (void)residual; (void)output; (void)range; (void)scratch;
    return -1;
#endif
}
