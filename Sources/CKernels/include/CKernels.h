// Matrix-product, convolution and softmax kernels with AVX2 and AVX-512 intrinsics, chosen at
// run time: the Swift code is compiled for one baseline CPU, while these functions carry their own
// instruction-set targets and run only where `ck_cpu_features` says the CPU has them. Compute's
// `BLAS`, `Convolution` and `VectorMath` are the only callers.
#ifndef CKERNELS_H
#define CKERNELS_H

#include <stddef.h>

/// The instruction sets a kernel may be asked to use, narrowest first.
typedef enum {
    CK_ISA_AVX2 = 1,      ///< AVX2 and FMA, 256-bit vectors
    CK_ISA_AVX512 = 2,    ///< AVX-512 F, 512-bit vectors
} ck_isa;

/// The CPU's features relevant here, each also enabled by the operating system (saved vector state).
unsigned ck_cpu_features(void);

enum { CK_FEATURE_AVX2 = 1, CK_FEATURE_AVX512 = 2, CK_FEATURE_AVX512_BF16 = 4 };

/// The CPU's vendor string from CPUID leaf 0 ("AuthenticAMD", "GenuineIntel", …), 12 characters
/// and a terminating zero in `vendor`; empty where there is no CPUID.
void ck_cpu_vendor(char vendor[13]);

/// `C[m×n] = alpha · op(A) · op(B) + beta · C (+ column_bias[j] to column j)`, row-major, on the
/// calling thread, with `isa` (which the CPU must have); the bias is added to the rounded sum, as
/// a separate pass after the product would. `beta == 0` never reads C; `column_bias` may be NULL.
/// Returns 0, or -1 if scratch memory could not be allocated (C is then untouched).
int ck_sgemm(ck_isa isa, int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
             float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
             float beta, float *c, ptrdiff_t ldc, const float *column_bias);

/// `ck_sgemm` with the products of bfloat16 operands: each element of op(A) and op(B) is rounded to
/// bfloat16 (to nearest even, subnormals to zero) and the products are summed in float32 by
/// `VDPBF16PS`, two depths per instruction. The CPU must have `CK_FEATURE_AVX512_BF16`.
int ck_sgemm_bf16(int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k, float alpha, const float *a,
                  ptrdiff_t lda, const float *b, ptrdiff_t ldb, float beta, float *c, ptrdiff_t ldc, const float *column_bias);

/// The shape of a convolution (PyTorch's `conv2d`, one group, zero padding) and what it fuses; a
/// 1-D convolution has `height == kernel_height == 1` and `padding_height == 0`.
typedef struct {
    ptrdiff_t channels, height, width;              ///< the input, `[channels, height, width]`
    ptrdiff_t outputs, kernel_height, kernel_width; ///< the weight, `[outputs, channels · kernel_height · kernel_width]`
    ptrdiff_t stride, padding_height, padding_width, dilation;
    ptrdiff_t out_height, out_width;                ///< the output (and residual), `[outputs, out_height, out_width]`
    int leaky;                                      ///< nonzero: input values go through leaky ReLU with `slope` as they are read
    float slope;
} ck_conv_shape;

/// The part of the output one call computes: output channels × output positions (row-major over
/// the output plane).
typedef struct {
    ptrdiff_t first_output, output_count, first_position, position_count;
} ck_conv_range;

/// `y[o, q] = Σ_{c, i, j} w[o, c, i, j] · f(x[c, y·s − ph + i·d, x·s − pw + j·d]) + bias[o] + residual[o, q]`
/// for the output positions q = (y, x) and channels o of `range`, on the calling thread, with `isa`
/// (which the CPU must have): `f` is leaky ReLU or the identity, `x` zero outside the image, `bias`
/// and `residual` may be NULL. The sums are ck_sgemm's over im2col columns, in the same order.
/// `scratch` holds `ck_conv_scratch_count` floats, from the caller so that its packed weights are
/// reused memory, not a fresh block in whichever heap arena the calling thread has. Returns 0, or
/// -1 if this build has no kernels for `isa` (the output is then untouched).
int ck_conv(ck_isa isa, const ck_conv_shape *shape, const float *weight, const float *bias, const float *input,
            const float *residual, float *output, ck_conv_range range, float *scratch);

/// `ck_conv` with bfloat16 products, as `ck_sgemm_bf16`: the weight and the implicit columns
/// rounded to bfloat16, the sums in float32. The CPU must have `CK_FEATURE_AVX512_BF16`.
int ck_conv_bf16(const ck_conv_shape *shape, const float *weight, const float *bias, const float *input,
                 const float *residual, float *output, ck_conv_range range, float *scratch);

/// Floats of the scratch `ck_conv` (`bfloat16` zero) or `ck_conv_bf16` (nonzero) needs for `range`
/// of `shape` with `isa`: the range's packed weight rows and a panel of columns; 0 without kernels.
size_t ck_conv_scratch_count(ck_isa isa, int bfloat16, const ck_conv_shape *shape, ck_conv_range range);

/// Output groups of `ck_winograd1d` for a 1-D `shape`: ⌈out_width / (4 · dilation)⌉, each of
/// 4 · dilation outputs (`dilation` tiles of four outputs `dilation` apart).
ptrdiff_t ck_winograd1d_groups(const ck_conv_shape *shape);

/// Floats of the rearranged input `ck_winograd1d` reads, for one signal of a 1-D `shape`.
ptrdiff_t ck_winograd1d_split_size(const ck_conv_shape *shape);

/// Writes channels [first_channel, first_channel + channel_count) of the rearranged input of
/// `ck_winograd1d`: the signal `input` `[channels, width]` by phase modulo 4 · dilation, zero
/// padded, through leaky ReLU when `shape` asks for it, with `isa` (which the CPU must have).
void ck_winograd1d_split(ck_isa isa, const ck_conv_shape *shape, const float *input, ptrdiff_t first_channel, ptrdiff_t channel_count,
                         float *split);

/// Floats of the transformed filter of a 1-D `shape` (`ck_winograd1d_filter`).
ptrdiff_t ck_winograd1d_filter_size(const ck_conv_shape *shape);

/// Writes the weight `[outputs, channels, kernel_width]` transformed for `ck_winograd1d`:
/// `[6][outputs][⌈kernel_width / 3⌉ · channels]`, computed in double and rounded once.
void ck_winograd1d_filter(const ck_conv_shape *shape, const float *weight, float *filter);

/// Floats of a transformed filter packed for `isa`'s micro-kernels (`ck_winograd1d_pack`); 0 when
/// this build has no kernels for `isa`.
ptrdiff_t ck_winograd1d_packed_size(ck_isa isa, const ck_conv_shape *shape);

/// Packs a transformed filter (`ck_winograd1d_filter`) for `isa`'s micro-kernels, all output
/// channels, so that calls over every output channel need not pack it again. Returns 0, or -1
/// where this build has no kernels for `isa`.
int ck_winograd1d_pack(ck_isa isa, const ck_conv_shape *shape, const float *filter, float *packed);

/// The 1-D convolution of `shape` (stride 1, kernel_width ≥ 3, height 1) by Winograd F(4, 3) on
/// three-tap pieces of the kernel: the sums of `ck_conv` up to rounding (a few times its error),
/// with 1.5 products per output per three taps instead of 3. Reads the weight as
/// `ck_winograd1d_filter` wrote it (and, when `packed` is not NULL and `range` covers every output
/// channel, as `ck_winograd1d_pack` packed it for `isa`) and the input as `ck_winograd1d_split`
/// wrote it; `range` counts positions in groups (`ck_winograd1d_groups`). Returns 0, or -1 if
/// scratch memory could not be allocated, the shape is not one it takes, or this build has no
/// kernels for `isa` (the output is then untouched).
int ck_winograd1d(ck_isa isa, const ck_conv_shape *shape, const float *filter, const float *packed, const float *bias,
                  const float *split, const float *residual, float *output, ck_conv_range range);

/// The largest of `count` floats (−∞ for none), with `isa` (which the CPU must have).
float ck_max(ck_isa isa, const float *values, ptrdiff_t count);

/// `values[i] ← exp(values[i] − shift)` for `i < count`, with `isa` (which the CPU must have);
/// returns the sum of the new values. The exponential is Cephes' `expf`, below 2 ulp.
float ck_exp_sum(ck_isa isa, float *values, ptrdiff_t count, float shift);

#endif
