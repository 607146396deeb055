// The blocking and micro-kernels of one instruction set, shared by the matrix products (gemm.c)
// and the convolutions that pack their operands themselves (convolution.c, winograd1d.c). Private to CKernels.
#ifndef CK_GEMM_KIND_H
#define CK_GEMM_KIND_H

#include "CKernels.h"

/// What the last block of a sum adds to its tile after the products, in this order and each
/// rounded: `bias[i]` to row i, `residual[i * ldr + j]`, `column_bias[j]` to column j (a linear
/// layer's bias); each NULL when absent.
typedef struct {
    const float *bias;
    const float *residual;
    ptrdiff_t ldr;
    const float *column_bias;
} tile_epilogue;

/// Sizes and micro-kernel of one instruction set.
typedef struct {
    int mr, nr, kc, mc, nc;
    /// Nonzero when the panels hold bfloat16 pairs: each 32-bit slot of a row (or column) of a panel
    /// holds two consecutive depths rounded to bfloat16, the even one in the low half, and a panel
    /// of kc depths has ⌈kc / 2⌉ slots per row (`ck_panel_depth`). Zero: one float per depth.
    int bf16_pairs;
    /// `tile = alpha · Apanel · Bpanel (+ beta · tile)`, then `epilogue` when not NULL; `beta == 0`
    /// does not read the tile.
    void (*micro)(ptrdiff_t kc, const float *a, const float *b, float *c, ptrdiff_t ldc, float alpha, float beta,
                  const tile_epilogue *epilogue);
    /// Packs one whole panel of MR rows of a row-major op(A) (rows `lda` apart) into `[kc][mr]`.
    void (*pack_rows)(const float *origin, ptrdiff_t lda, ptrdiff_t kc, float *out);
    /// Packs one whole panel of NR columns of op(B) = Bᵀ, B row-major (rows `ldb` apart), into `[kc][nr]`.
    void (*pack_columns)(const float *origin, ptrdiff_t ldb, ptrdiff_t kc, float *out);
    /// Packs a panel whose depths lie in rows `ld` apart (a transposed op(A), an untransposed op(B)):
    /// lane `l < lanes` of depth `p` from `origin[p * ld + l]`, lanes up to `width` zero.
    void (*pack_lanes)(const float *origin, ptrdiff_t ld, ptrdiff_t kc, ptrdiff_t lanes, int width, float *out);
} gemm_kind;

/// 32-bit slots per row (or column) of a panel of `kc` depths.
static inline ptrdiff_t ck_panel_depth(const gemm_kind *kind, ptrdiff_t kc) { return kind->bf16_pairs ? (kc + 1) / 2 : kc; }

/// Depths per block of a product over `depth` depths: the kind's block, or all of them when they are
/// at most half again as many, since a short second block passes over C once more for a few depths
/// (a 320-deep product as 256 + 64 took 13 % longer). The GEMM and `ck_conv` block this way, so that
/// a convolution and the GEMM of its im2col columns sum in the same order (winograd1d.c keeps its
/// own blocks of 128).
static inline ptrdiff_t ck_depth_block(const gemm_kind *kind, ptrdiff_t depth) {
    return depth <= kind->kc * 3 / 2 ? depth : kind->kc;
}

/// The float32 kind of `isa`, or NULL where this build has no vector kernels (not x86-64).
const gemm_kind *ck_gemm_kind(ck_isa isa);

/// AVX-512's float kind with 8 × 32 tiles (for row counts that are a multiple of 8 but not of 12),
/// or NULL for other instruction sets and where this build has no vector kernels.
const gemm_kind *ck_gemm_kind_rows8(ck_isa isa);

/// The AVX-512 BF16 kind (panels of bfloat16 pairs), or NULL where this build has no vector kernels.
const gemm_kind *ck_gemm_kind_bf16(void);

/// Packs `kc` depths of `width` lanes element by element: lane `l < lanes` of depth `p` from
/// `origin[l * lane_step + p * depth_step]`, the other lanes zero, as `kind` lays out a panel.
void ck_pack_elements(const gemm_kind *kind, const float *origin, ptrdiff_t lane_step, ptrdiff_t depth_step,
                      ptrdiff_t lanes, int width, ptrdiff_t kc, float *out);

/// Writes the `height × width` corner of an MR × NR tile computed into `edge` (rows `nr` apart)
/// to `tile`: `edge + beta · tile`, then `epilogue` (when not NULL) as the micro-kernels apply it.
void ck_store_edge(const float *edge, int nr, float *tile, ptrdiff_t ldc, ptrdiff_t height, ptrdiff_t width, float beta,
                   const tile_epilogue *epilogue);

/// Packs rows [0, outputs) of a weight `[·, depth_count]` (row-major) for the micro-kernels: for each
/// block of `block_depth` depths, its `panels` panels of MR rows `[kc][mr]` one after the other (rows
/// past `outputs` zero), the block of depth `pc` at `packed + pc · panels · MR`.
void ck_pack_weight(const gemm_kind *kind, ptrdiff_t block_depth, const float *weight, ptrdiff_t outputs,
                    ptrdiff_t depth_count, ptrdiff_t panels, float *packed);

#endif
