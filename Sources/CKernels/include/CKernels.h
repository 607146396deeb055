// Matrix-product, 1-D convolution and softmax kernels with AVX2 and AVX-512 intrinsics, chosen at
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

enum { CK_FEATURE_AVX2 = 1, CK_FEATURE_AVX512 = 2 };

/// `C[m×n] = alpha · op(A) · op(B) + beta · C`, row-major, on the calling thread, with `isa`
/// (which the CPU must have). `beta == 0` never reads C. Returns 0, or -1 if scratch memory
/// could not be allocated (C is then untouched).
int ck_sgemm(ck_isa isa, int transpose_a, int transpose_b, ptrdiff_t m, ptrdiff_t n, ptrdiff_t k,
             float alpha, const float *a, ptrdiff_t lda, const float *b, ptrdiff_t ldb,
             float beta, float *c, ptrdiff_t ldc);

/// The shape of a 1-D convolution (PyTorch's `conv1d`, one group, zero padding) and what it fuses.
typedef struct {
    ptrdiff_t channels, length;           ///< the input, `[channels, length]`
    ptrdiff_t outputs, kernel;            ///< the weight, `[outputs, channels · kernel]`
    ptrdiff_t stride, padding, dilation;
    ptrdiff_t out_length;                 ///< positions of the output (and residual) rows
    int leaky;                            ///< nonzero: input values go through leaky ReLU with `slope` as they are read
    float slope;
} ck_conv1d_shape;

/// `y[o, l] = Σ_{c, j} w[o, c·k + j] · f(x[c, l·s − p + j·d]) + bias[o] + residual[o, l]` for the
/// output positions `l` in [first, first + count), on the calling thread, with `isa` (which the CPU
/// must have): `f` is leaky ReLU or the identity, `x` zero outside the signal, `bias` and
/// `residual` (`[outputs, out_length]`) may be NULL. The sums are ck_sgemm's over im2col columns,
/// in the same order. Returns 0, or -1 if scratch memory could not be allocated or this build has
/// no kernels for `isa` (the output is then untouched).
int ck_conv1d(ck_isa isa, const ck_conv1d_shape *shape, const float *weight, const float *bias, const float *input,
              const float *residual, float *output, ptrdiff_t first, ptrdiff_t count);

/// The largest of `count` floats (−∞ for none), with `isa` (which the CPU must have).
float ck_max(ck_isa isa, const float *values, ptrdiff_t count);

/// `values[i] ← exp(values[i] − shift)` for `i < count`, with `isa` (which the CPU must have);
/// returns the sum of the new values. The exponential is Cephes' `expf`, below 2 ulp.
float ck_exp_sum(ck_isa isa, float *values, ptrdiff_t count, float shift);

#endif
