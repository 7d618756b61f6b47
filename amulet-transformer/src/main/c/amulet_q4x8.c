/*
 * Q4_0 weights interleaved by eight rows for the native kernels (issue 26), bound to
 * io.github.amulet4j.transformer.weights.NativeKernels.productInterleaved. Compiled into the same libamulet_kernels.so
 * as amulet_kernels.c, whose run-time variant it follows (0 scalar C, 1 AVX2, 2 AVX-VNNI, 3 AVX-512 VNNI; on aarch64
 * 1 NEON, 2 NEON dotprod: a chunk's 16-byte halves are 4 rows, one sdot by lane adds 4 products to each).
 *
 * The layout (WeightPanel.interleave repacks a slab in place at load; a slab's rows past its last whole group of 8
 * stay in the row layout): a group of 8 rows keeps, per block k, 128 bytes of nibbles in 4 chunks of 32; chunk q holds
 * bytes 4q..4q+3 of each row's 16-byte ggml block, row after row. So one 32-bit lane of a chunk is one row: its low
 * nibbles are the block's elements 4q..4q+3, its high nibbles elements 16+4q..16+4q+3, and one vpdpbusd of the chunk
 * with those 4 activation bytes broadcast adds 4 products to each of 8 rows (16 rows, two groups, with 512 bits).
 * The group's float16 scales: 8 per block, row after row. Nothing is duplicated: the bytes and scales are ggml's,
 * moved.
 *
 * Arithmetic of a (row, column), the same in every variant, for any number of columns and any row range (so every
 * column gets bit for bit the result it gets alone, and a group row the result it gets as a tail row):
 *   i_k = exact int32 dot product of the block's nibbles (0..15) with the activation quants,
 *   v_k = fma((float) i_k, dx_k, -8 * xs_k)        (xs_k = dx_k * sum of the quants: the nibbles' offset of 8),
 *   acc = fma(v_k, dw_k, acc)                       for k = 0, 1, ... in order, acc starting at 0; y = acc (or += acc).
 * One conversion and two fmas per block per (row, column), shared by 8 or 16 rows in a vector: the row-layout kernels
 * needed a conversion, a scale product and an fma per two blocks of every single (row, column) pair.
 */
#include <jni.h>
#include <stdint.h>
#include <string.h>
#include <math.h>
#include <stdlib.h>

#include "amulet_q8q4.h"

#define QK 32
/* Bytes of one block of a group of 8 rows (8 x 16 bytes of nibbles). */
#define GB 128
/* Many columns: groups of rows that a block of columns passes over before the next ones, and columns a block. */
#define MANY_GROUPS 8
#define MANY_COLS 64
/* Groups ahead that a one- or two-column kernel asks the cache for. */
#define PREFETCH_GROUPS 4

/* The variant amulet_kernels.c chose (or a test selected). */
int amulet_q8q4_variant(void);

#ifdef AMULET_X86
static inline int32_t load32(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}
#endif

static inline void put(float *p, float s, int add) {
    *p = add ? *p + s : s;
}

/*
 * One (row, column) in plain C: a group's row i (grouped) or a row in the ggml layout (w its quants, s its scales).
 * Also the tail rows of every variant: the same steps as the vector lanes, so the same bits.
 */
static float row_scalar(const uint8_t *w, const uint16_t *s, int grouped, int i, int blocks, const int8_t *x,
                        const float *d, const float *xs) {
    float acc = 0;
    for (int k = 0; k < blocks; k++) {
        int32_t dot = 0;
        for (int j = 0; j < QK / 2; j++) {
            uint8_t b = grouped ? w[(size_t) k * GB + (j >> 2) * 32 + i * 4 + (j & 3)] : w[(size_t) k * (QK / 2) + j];
            dot += (int32_t) (b & 0x0F) * x[k * QK + j] + (int32_t) (b >> 4) * x[k * QK + j + QK / 2];
        }
        float dw = half_to_float(grouped ? s[(size_t) k * 8 + i] : s[k]);
        float v = fmaf((float) dot, d[k], -8.0f * xs[k]);
        acc = fmaf(v, dw, acc);
    }
    return acc;
}

/* Grouped rows [first, end) of the slab (w, sc) in plain C: y[c * yStride + r - first]. */
static void grouped_scalar(const uint8_t *w, const uint16_t *sc, int first, int end, int blocks, const int8_t *xq,
                           const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride, int add) {
    for (int r = first; r < end; r++) {
        const uint8_t *g = w + (size_t) (r / 8) * blocks * GB;
        const uint16_t *s = sc + (size_t) (r / 8) * blocks * 8;
        for (int c = 0; c < n; c++) {
            size_t o = (size_t) c * colBlocks;
            put(y + (size_t) c * yStride + (r - first),
                row_scalar(g, s, 1, r % 8, blocks, xq + o * QK, xd + o, xs + o), add);
        }
    }
}

/*
 * The driver of a grouped variant, for the variants whose NAME##_tile (a function of TARGET) takes one group of 8
 * rows times C columns: grouped rows [first, end) times n columns, by groups of 4 columns (the columns left over 1 to
 * 3 at a time); one or two columns ask the cache for the groups PREFETCH_GROUPS ahead.
 */
#define GROUP_DRIVER(NAME, TARGET)                                                                                    \
static TARGET void NAME(const uint8_t *w, const uint16_t *sc, int first, int end, int blocks, const int8_t *xq,       \
                        const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride, int add) {     \
    for (int g = first / 8; g * 8 < end; g++) {                                                                       \
        int pf = n <= 2 && (g + 1 + PREFETCH_GROUPS) * 8 <= end;                                                      \
        int lo = g * 8 < first ? first - g * 8 : 0, hi = end - g * 8 < 8 ? end - g * 8 : 8;                           \
        int mask = ((1 << hi) - 1) & ~((1 << lo) - 1);                                                                \
        const uint8_t *gw = w + (size_t) g * blocks * GB;                                                             \
        const uint16_t *gs = sc + (size_t) g * blocks * 8;                                                            \
        float *yg = y + (g * 8 - first);                                                                              \
        int c = 0;                                                                                                    \
        for (; c + 4 <= n; c += 4) {                                                                                  \
            size_t o = (size_t) c * colBlocks;                                                                        \
            NAME##_tile(4, gw, gs, blocks, 0, xq + o * QK, xd + o, xs + o, colBlocks,                                 \
                        yg + (size_t) c * yStride, yStride, mask, add);                                               \
        }                                                                                                             \
        size_t o = (size_t) c * colBlocks;                                                                            \
        float *yc = yg + (size_t) c * yStride;                                                                        \
        switch (n - c) {                                                                                              \
            case 1: NAME##_tile(1, gw, gs, blocks, pf, xq + o * QK, xd + o, xs + o, colBlocks, yc, yStride,           \
                                mask, add); break;                                                                    \
            case 2: NAME##_tile(2, gw, gs, blocks, pf, xq + o * QK, xd + o, xs + o, colBlocks, yc, yStride,           \
                                mask, add); break;                                                                    \
            case 3: NAME##_tile(3, gw, gs, blocks, 0, xq + o * QK, xd + o, xs + o, colBlocks, yc, yStride,            \
                                mask, add); break;                                                                    \
            default: break;                                                                                           \
        }                                                                                                             \
    }                                                                                                                 \
}

#ifdef AMULET_X86
#define INLINE static inline __attribute__((always_inline))

/* ---------------------------------------------------------------- 256 bits: one group of 8 rows a vector */

static inline T_AVX2 __m256i dot_acc_avx2(__m256i acc, __m256i u, __m256i s) {
    return _mm256_add_epi32(acc, _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1)));
}

#ifdef AMULET_AVXVNNI
static inline T_AVXVNNI __m256i dot_acc_avxvnni(__m256i acc, __m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(acc, u, s);
}
#endif

/*
 * One group (g its bytes, s its scales) times C columns (a constant after inlining): the rows of the group whose bits
 * are set in mask stored at y[c * yStride + lane]. TARGET and DOT name the variant.
 */
#define GROUP_256(NAME, TARGET, DOT)                                                                                  \
    INLINE TARGET void NAME##_tile(int C, const uint8_t *g, const uint16_t *s, int blocks, int pf, const int8_t *xq, \
                                   const float *xd, const float *xs, int colBlocks, float *y, int yStride, int mask, \
                                   int add) {                                                                         \
        const __m256i m4 = _mm256_set1_epi8(0x0F);                                                                    \
        __m256 acc[4];                                                                                                \
        _Pragma("GCC unroll 4") for (int c = 0; c < C; c++) acc[c] = _mm256_setzero_ps();                             \
        for (int k = 0; k < blocks; k++) {                                                                            \
            const uint8_t *p = g + (size_t) k * GB;                                                                   \
            if (pf) {                                                                                                 \
                _mm_prefetch((const char *) p + (size_t) PREFETCH_GROUPS * blocks * GB, _MM_HINT_T0);                 \
                _mm_prefetch((const char *) p + (size_t) PREFETCH_GROUPS * blocks * GB + 64, _MM_HINT_T0);            \
                _mm_prefetch((const char *) (s + (size_t) k * 8 + (size_t) PREFETCH_GROUPS * blocks * 8), _MM_HINT_T0); \
            }                                                                                                         \
            __m256 dw = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (s + (size_t) k * 8)));                     \
            __m256i dot[4];                                                                                           \
            _Pragma("GCC unroll 4") for (int c = 0; c < C; c++) dot[c] = _mm256_setzero_si256();                      \
            _Pragma("GCC unroll 4") for (int q = 0; q < 4; q++) {                                                     \
                __m256i w = _mm256_loadu_si256((const __m256i *) (p + q * 32));                                       \
                __m256i lo = _mm256_and_si256(w, m4);                                                                 \
                __m256i hi = _mm256_and_si256(_mm256_srli_epi16(w, 4), m4);                                           \
                _Pragma("GCC unroll 4") for (int c = 0; c < C; c++) {                                                 \
                    const int8_t *x = xq + ((size_t) c * colBlocks + k) * QK;                                         \
                    dot[c] = DOT(dot[c], lo, _mm256_set1_epi32(load32(x + 4 * q)));                                   \
                    dot[c] = DOT(dot[c], hi, _mm256_set1_epi32(load32(x + 16 + 4 * q)));                              \
                }                                                                                                     \
            }                                                                                                         \
            _Pragma("GCC unroll 4") for (int c = 0; c < C; c++) {                                                     \
                size_t o = (size_t) c * colBlocks + k;                                                                \
                __m256 v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot[c]), _mm256_set1_ps(xd[o]),                         \
                                           _mm256_set1_ps(-8.0f * xs[o]));                                            \
                acc[c] = _mm256_fmadd_ps(v, dw, acc[c]);                                                              \
            }                                                                                                         \
        }                                                                                                             \
        _Pragma("GCC unroll 4") for (int c = 0; c < C; c++) {                                                         \
            float out[8];                                                                                             \
            _mm256_storeu_ps(out, acc[c]);                                                                            \
            for (int i = 0; i < 8; i++) {                                                                             \
                if (mask >> i & 1) {                                                                                  \
                    put(y + (size_t) c * yStride + i, out[i], add);                                                   \
                }                                                                                                     \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    GROUP_DRIVER(NAME, TARGET)

GROUP_256(grouped_avx2, T_AVX2, dot_acc_avx2)
#ifdef AMULET_AVXVNNI
GROUP_256(grouped_avxvnni, T_AVXVNNI, dot_acc_avxvnni)
#endif

/* ---------------------------------------------------------------- AVX-512 VNNI: two groups (16 rows) a vector */

/*
 * Groups a and b (the same group where a range has an odd one left: its second half is then not stored) times C
 * columns, C a constant after inlining: per block and chunk, each group's 32 bytes side by side in one 512-bit
 * vector, its low and high nibbles one vpdpbusd each per column with the column's 4 activation bytes broadcast.
 * split: two int32 chains per column (one or two columns: the chains' latency is not hidden by other columns).
 * The rows whose bits are set in mask (lanes 0-7 group a, 8-15 group b) stored at y[c * yStride + lane].
 */
INLINE T_AVX512 void pair_tile(int C, int split, int pf, const uint8_t *ga, const uint8_t *gb, const uint16_t *sa,
                               const uint16_t *sb, int blocks, const int8_t *xq, const float *xd, const float *xs,
                               int colBlocks, float *y, int yStride, __mmask16 mask, int add) {
    const __m512i m4 = _mm512_set1_epi8(0x0F);
    __m512 acc[8];
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) {
        acc[c] = _mm512_setzero_ps();
    }
    const size_t ahead = (size_t) PREFETCH_GROUPS * blocks * GB;
    for (int k = 0; k < blocks; k++) {
        const uint8_t *pa = ga + (size_t) k * GB;
        const uint8_t *pb = gb + (size_t) k * GB;
        if (pf) {
            _mm_prefetch((const char *) pa + ahead, _MM_HINT_T0);
            _mm_prefetch((const char *) pa + ahead + 64, _MM_HINT_T0);
            _mm_prefetch((const char *) pb + ahead, _MM_HINT_T0);
            _mm_prefetch((const char *) pb + ahead + 64, _MM_HINT_T0);
            _mm_prefetch((const char *) (sa + (size_t) k * 8 + (size_t) PREFETCH_GROUPS * blocks * 8), _MM_HINT_T0);
            _mm_prefetch((const char *) (sb + (size_t) k * 8 + (size_t) PREFETCH_GROUPS * blocks * 8), _MM_HINT_T0);
        }
        __m512 dw = _mm512_cvtph_ps(_mm256_inserti128_si256(
                _mm256_castsi128_si256(_mm_loadu_si128((const __m128i *) (sa + (size_t) k * 8))),
                _mm_loadu_si128((const __m128i *) (sb + (size_t) k * 8)), 1));
        __m512i dot[8], dot2[8];
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) {
            dot[c] = _mm512_setzero_si512();
            dot2[c] = _mm512_setzero_si512();
        }
#pragma GCC unroll 4
        for (int q = 0; q < 4; q++) {
            __m512i w = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *) (pa + q * 32))),
                                           _mm256_loadu_si256((const __m256i *) (pb + q * 32)), 1);
            __m512i lo = _mm512_and_si512(w, m4);
            __m512i hi = _mm512_and_si512(_mm512_srli_epi16(w, 4), m4);
#pragma GCC unroll 8
            for (int c = 0; c < C; c++) {
                const int8_t *x = xq + ((size_t) c * colBlocks + k) * QK;
                dot[c] = _mm512_dpbusd_epi32(dot[c], lo, _mm512_set1_epi32(load32(x + 4 * q)));
                if (split) {
                    dot2[c] = _mm512_dpbusd_epi32(dot2[c], hi, _mm512_set1_epi32(load32(x + 16 + 4 * q)));
                } else {
                    dot[c] = _mm512_dpbusd_epi32(dot[c], hi, _mm512_set1_epi32(load32(x + 16 + 4 * q)));
                }
            }
        }
#pragma GCC unroll 8
        for (int c = 0; c < C; c++) {
            size_t o = (size_t) c * colBlocks + k;
            __m512i d = split ? _mm512_add_epi32(dot[c], dot2[c]) : dot[c];
            __m512 v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_set1_ps(xd[o]), _mm512_set1_ps(-8.0f * xs[o]));
            acc[c] = _mm512_fmadd_ps(v, dw, acc[c]);
        }
    }
#pragma GCC unroll 8
    for (int c = 0; c < C; c++) {
        float *p = y + (size_t) c * yStride;
        __m512 out = add ? _mm512_add_ps(_mm512_maskz_loadu_ps(mask, p), acc[c]) : acc[c];
        _mm512_mask_storeu_ps(p, mask, out);
    }
}

/* Groups g and g + 1 of the range [first, end) (two: whether g + 1 is in it) times columns [c, c + C). */
#define PAIR(C, SPLIT, PF)                                                                                            \
    pair_tile(C, SPLIT, PF, ga, two ? ga + (size_t) blocks * GB : ga, gs, two ? gs + (size_t) blocks * 8 : gs,        \
              blocks, xq + (size_t) c * colBlocks * QK, xd + (size_t) c * colBlocks, xs + (size_t) c * colBlocks,     \
              colBlocks, yg + (size_t) c * yStride, yStride, mask, add)

/*
 * Grouped rows [first, end) times n columns: one or two columns pair by pair of groups (the weights streamed once);
 * more over MANY_GROUPS groups x MANY_COLS columns at a time, in tiles of two groups x 8 columns (the columns left
 * over 1 to 7 at a time).
 */
static T_AVX512 void grouped_avx512(const uint8_t *w, const uint16_t *sc, int first, int end, int blocks,
                                    const int8_t *xq, const float *xd, const float *xs, int colBlocks, int n, float *y,
                                    int yStride, int add) {
    int g0 = first / 8, g1 = (end + 7) / 8;
    int step = n <= 2 ? g1 - g0 : MANY_GROUPS;
    for (int gb0 = g0; gb0 < g1; gb0 += step) {
        int gb1 = g1 - gb0 < step ? g1 : gb0 + step;
        for (int c0 = 0; c0 < n; c0 += MANY_COLS) {
            int c1 = n - c0 < MANY_COLS ? n : c0 + MANY_COLS;
            for (int g = gb0; g < gb1; g += 2) {
                int two = g + 1 < gb1;
                int lo = g * 8 < first ? first - g * 8 : 0;
                int hi = end - g * 8 < (two ? 16 : 8) ? end - g * 8 : (two ? 16 : 8);
                __mmask16 mask = (__mmask16) (((1u << hi) - 1) & ~((1u << lo) - 1));
                const uint8_t *ga = w + (size_t) g * blocks * GB;
                const uint16_t *gs = sc + (size_t) g * blocks * 8;
                float *yg = y + (g * 8 - first);
                int c = c0;
                for (; c + 8 <= c1; c += 8) {
                    PAIR(8, 0, 0);
                }
                /* one or two columns stream the weights: ask for the groups PREFETCH_GROUPS ahead, within the range
                   (past its end they are another thread's, or no one's) */
                int pf = n <= 2 && g + 2 + PREFETCH_GROUPS <= gb1;
                switch (c1 - c) {
                    case 1: PAIR(1, 1, pf); break;
                    case 2: PAIR(2, 1, pf); break;
                    case 3: PAIR(3, 0, 0); break;
                    case 4: PAIR(4, 0, 0); break;
                    case 5: PAIR(5, 0, 0); break;
                    case 6: PAIR(6, 0, 0); break;
                    case 7: PAIR(7, 0, 0); break;
                    default: break;
                }
            }
        }
    }
}
#endif /* AMULET_X86 */

#ifdef AMULET_ARM
/* ---------------------------------------------------------------- aarch64 NEON: one group of 8 rows in two vectors */

/* acc + the 4 int32 lane sums of a (4 rows' 4 bytes each) times the 4 bytes of lane Q of x, without sdot */
#define DOTL_NEON(acc, a, x, Q)                                                                                       \
    vaddq_s32(acc, vpaddq_s32(                                                                                        \
        vpaddlq_s16(vmull_s8(vget_low_s8(a),                                                                          \
                             vget_low_s8(vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x), Q))))),        \
        vpaddlq_s16(vmull_high_s8(a, vreinterpretq_s8_s32(vdupq_laneq_s32(vreinterpretq_s32_s8(x), Q))))))
#define DOTL_DOTPROD(acc, a, x, Q) amulet_sdot_lane##Q(acc, a, x)

/*
 * One group (g its bytes, s its scales) times C columns (a constant after inlining): rows 0..3 of the group in the
 * "l" vectors, 4..7 in "h"; the rows whose bits are set in mask stored at y[c * yStride + lane]. The integer sums are
 * exact whatever their order; the two fmas per block are row_scalar's (vfmaq_f32 rounds once, as fmaf).
 */
#define GROUP_NEON(NAME, TARGET, DOTL)                                                                                \
    static inline __attribute__((always_inline)) TARGET void NAME##_tile(                                            \
            int C, const uint8_t *g, const uint16_t *s, int blocks, int pf, const int8_t *xq, const float *xd,       \
            const float *xs, int colBlocks, float *y, int yStride, int mask, int add) {                               \
        const uint8x16_t m4 = vdupq_n_u8(0x0F);                                                                       \
        float32x4_t accl[4], acch[4];                                                                                 \
        _Pragma("GCC unroll 4") for (int c = 0; c < C; c++) accl[c] = acch[c] = vdupq_n_f32(0);                       \
        for (int k = 0; k < blocks; k++) {                                                                            \
            const uint8_t *p = g + (size_t) k * GB;                                                                   \
            if (pf) {                                                                                                 \
                __builtin_prefetch(p + (size_t) PREFETCH_GROUPS * blocks * GB);                                       \
                __builtin_prefetch(p + (size_t) PREFETCH_GROUPS * blocks * GB + 64);                                  \
                __builtin_prefetch(s + (size_t) k * 8 + (size_t) PREFETCH_GROUPS * blocks * 8);                       \
            }                                                                                                         \
            float32x4_t dwl = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(s + (size_t) k * 8)));                       \
            float32x4_t dwh = vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(s + (size_t) k * 8 + 4)));                   \
            int8x16_t x0[4], x1[4];                                                                                   \
            int32x4_t dl[4], dh[4];                                                                                   \
            _Pragma("GCC unroll 4") for (int c = 0; c < C; c++) {                                                     \
                const int8_t *x = xq + ((size_t) c * colBlocks + k) * QK;                                             \
                x0[c] = vld1q_s8(x);                                                                                  \
                x1[c] = vld1q_s8(x + 16);                                                                             \
                dl[c] = dh[c] = vdupq_n_s32(0);                                                                       \
            }                                                                                                         \
            GROUP_NEON_CHUNK(DOTL, 0)                                                                                 \
            GROUP_NEON_CHUNK(DOTL, 1)                                                                                 \
            GROUP_NEON_CHUNK(DOTL, 2)                                                                                 \
            GROUP_NEON_CHUNK(DOTL, 3)                                                                                 \
            _Pragma("GCC unroll 4") for (int c = 0; c < C; c++) {                                                     \
                size_t o = (size_t) c * colBlocks + k;                                                                \
                float32x4_t dx = vdupq_n_f32(xd[o]), off = vdupq_n_f32(-8.0f * xs[o]);                                \
                accl[c] = vfmaq_f32(accl[c], vfmaq_f32(off, vcvtq_f32_s32(dl[c]), dx), dwl);                          \
                acch[c] = vfmaq_f32(acch[c], vfmaq_f32(off, vcvtq_f32_s32(dh[c]), dx), dwh);                          \
            }                                                                                                         \
        }                                                                                                             \
        _Pragma("GCC unroll 4") for (int c = 0; c < C; c++) {                                                         \
            float out[8];                                                                                             \
            vst1q_f32(out, accl[c]);                                                                                  \
            vst1q_f32(out + 4, acch[c]);                                                                              \
            for (int i = 0; i < 8; i++) {                                                                             \
                if (mask >> i & 1) {                                                                                  \
                    put(y + (size_t) c * yStride + i, out[i], add);                                                   \
                }                                                                                                     \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    GROUP_DRIVER(NAME, TARGET)

/* Chunk Q of a block (bytes 4Q..4Q+3 of each row): rows 0..3 in its first 16 bytes, 4..7 in the next 16. */
#define GROUP_NEON_CHUNK(DOTL, Q)                                                                                     \
    {                                                                                                                 \
        uint8x16_t b0 = vld1q_u8(p + (Q) * 32), b1 = vld1q_u8(p + (Q) * 32 + 16);                                     \
        int8x16_t lo0 = vreinterpretq_s8_u8(vandq_u8(b0, m4)), hi0 = vreinterpretq_s8_u8(vshrq_n_u8(b0, 4));         \
        int8x16_t lo1 = vreinterpretq_s8_u8(vandq_u8(b1, m4)), hi1 = vreinterpretq_s8_u8(vshrq_n_u8(b1, 4));         \
        _Pragma("GCC unroll 4") for (int c = 0; c < C; c++) {                                                         \
            dl[c] = DOTL(dl[c], lo0, x0[c], Q);                                                                       \
            dl[c] = DOTL(dl[c], hi0, x1[c], Q);                                                                       \
            dh[c] = DOTL(dh[c], lo1, x0[c], Q);                                                                       \
            dh[c] = DOTL(dh[c], hi1, x1[c], Q);                                                                       \
        }                                                                                                             \
    }

GROUP_NEON(grouped_neon, , DOTL_NEON)
#ifdef AMULET_DOTPROD
GROUP_NEON(grouped_dotprod, T_DOTPROD, DOTL_DOTPROD)
#endif
#endif /* AMULET_ARM */

/*
 * Rows [first, first + count) of a slab of slabRows rows (its first slabRows / 8 * 8 rows in groups of 8, the rest
 * in the row layout) times n columns; y[c * yStride + r - first].
 */
static void product_interleaved(const uint8_t *w, const uint16_t *sc, int slabRows, int first, int count, int blocks,
                                const int8_t *xq, const float *xd, const float *xs, int colBlocks, int n, float *y,
                                int yStride, int add) {
    int grouped = slabRows / 8 * 8;
    int end = first + count;
    int gEnd = end < grouped ? end : grouped;
    if (first < gEnd) {
        switch (amulet_q8q4_variant()) {
#ifdef AMULET_X86
            case 1: grouped_avx2(w, sc, first, gEnd, blocks, xq, xd, xs, colBlocks, n, y, yStride, add); break;
#ifdef AMULET_AVXVNNI
            case 2: grouped_avxvnni(w, sc, first, gEnd, blocks, xq, xd, xs, colBlocks, n, y, yStride, add); break;
#endif
            case 3: grouped_avx512(w, sc, first, gEnd, blocks, xq, xd, xs, colBlocks, n, y, yStride, add); break;
#endif
#ifdef AMULET_ARM
            case 1: grouped_neon(w, sc, first, gEnd, blocks, xq, xd, xs, colBlocks, n, y, yStride, add); break;
#ifdef AMULET_DOTPROD
            case 2: grouped_dotprod(w, sc, first, gEnd, blocks, xq, xd, xs, colBlocks, n, y, yStride, add); break;
#endif
#endif
            default: grouped_scalar(w, sc, first, gEnd, blocks, xq, xd, xs, colBlocks, n, y, yStride, add); break;
        }
    }
    /* the rows after the last whole group (at most 7 a slab): plain C, the same bits */
    for (int r = first > grouped ? first : grouped; r < end; r++) {
        const uint8_t *wr = w + (size_t) r * blocks * (QK / 2);
        const uint16_t *sr = sc + (size_t) r * blocks;
        for (int c = 0; c < n; c++) {
            size_t o = (size_t) c * colBlocks;
            put(y + (size_t) c * yStride + (r - first), row_scalar(wr, sr, 0, 0, blocks, xq + o * QK, xd + o, xs + o),
                add);
        }
    }
}

#define JNI_FN(name) Java_io_github_amulet4j_transformer_weights_NativeKernels_##name

/*
 * Groups [g0, g1) of a Q4_0 slab in the row layout (blocks per row: 16 bytes of nibbles each; float16 scales apart)
 * repacked in place into the interleaved layout above. Returns 0, or -1 where no scratch memory was to be had.
 */
/* Groups [g0, g1) of 8 rows (quants pw, scales ps) repacked in place; tmp holds one group's bytes and scales. */
static void interleave_groups(uint8_t *pw, uint16_t *ps, jint g0, jint g1, jint blocks, uint8_t *tmp) {
    size_t groupBytes = (size_t) blocks * GB, groupScales = (size_t) blocks * 8;
    uint16_t *tmpScales = (uint16_t *) (tmp + groupBytes);
    for (jint g = g0; g < g1; g++) {
        uint8_t *d = pw + (size_t) g * groupBytes;
        uint16_t *s = ps + (size_t) g * groupScales;
        memcpy(tmp, d, groupBytes);
        memcpy(tmpScales, s, groupScales * 2);
        for (int k = 0; k < blocks; k++) {
            for (int q = 0; q < 4; q++) {
                for (int i = 0; i < 8; i++) {
                    memcpy(d + (size_t) k * GB + q * 32 + i * 4, tmp + (size_t) i * blocks * 16 + k * 16 + 4 * q, 4);
                }
            }
            for (int i = 0; i < 8; i++) {
                s[(size_t) k * 8 + i] = tmpScales[(size_t) i * blocks + k];
            }
        }
    }
}

JNIEXPORT jint JNICALL JNI_FN(interleave)(JNIEnv *env, jclass cls, jbyteArray w, jshortArray sc, jint g0, jint g1,
                                          jint blocks) {
    (void) cls;
    uint8_t *tmp = malloc((size_t) blocks * GB + (size_t) blocks * 8 * 2);
    if (!tmp) {
        return -1;
    }
    uint8_t *pw = (*env)->GetPrimitiveArrayCritical(env, w, NULL);
    uint16_t *ps = (*env)->GetPrimitiveArrayCritical(env, sc, NULL);
    if (pw && ps) {
        interleave_groups(pw, ps, g0, g1, blocks, tmp);
    }
    if (ps) (*env)->ReleasePrimitiveArrayCritical(env, sc, ps, 0);
    if (pw) (*env)->ReleasePrimitiveArrayCritical(env, w, pw, 0);
    free(tmp);
    return 0;
}

/* As interleave, on a slab off the Java heap (addresses of its quants and scales). */
JNIEXPORT jint JNICALL JNI_FN(interleaveAt)(JNIEnv *env, jclass cls, jlong w, jlong sc, jint g0, jint g1,
                                            jint blocks) {
    (void) env; (void) cls;
    uint8_t *tmp = malloc((size_t) blocks * GB + (size_t) blocks * 8 * 2);
    if (!tmp) {
        return -1;
    }
    interleave_groups((uint8_t *) (intptr_t) w, (uint16_t *) (intptr_t) sc, g0, g1, blocks, tmp);
    free(tmp);
    return 0;
}

/*
 * Rows [first, first + count) of a Q4_0 slab interleaved by WeightPanel (slabRows rows: w its nibbles, sc its float16
 * scales, blocks per row) times n quantized activation columns from block xBlock of each (colBlocks blocks a column):
 * y[yOff + c * yStride + r - first] stored or (add) added to. The Java side checks every bound.
 */
JNIEXPORT void JNICALL JNI_FN(productInterleaved)(JNIEnv *env, jclass cls, jbyteArray w, jshortArray sc, jint slabRows,
                                                   jint first, jint count, jint blocks, jbyteArray xq, jfloatArray xd,
                                                   jfloatArray xs, jint xBlock, jint colBlocks, jint n, jfloatArray y,
                                                   jint yOff, jint yStride, jboolean add) {
    (void) cls;
    uint8_t *pw = (*env)->GetPrimitiveArrayCritical(env, w, NULL);
    uint16_t *ps = (*env)->GetPrimitiveArrayCritical(env, sc, NULL);
    int8_t *pq = (*env)->GetPrimitiveArrayCritical(env, xq, NULL);
    float *pd = (*env)->GetPrimitiveArrayCritical(env, xd, NULL);
    float *pxs = (*env)->GetPrimitiveArrayCritical(env, xs, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (pw && ps && pq && pd && pxs && py) {
        product_interleaved(pw, ps, slabRows, first, count, blocks, pq + (size_t) xBlock * QK, pd + xBlock,
                            pxs + xBlock, colBlocks, n, py + yOff, yStride, add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (pxs) (*env)->ReleasePrimitiveArrayCritical(env, xs, pxs, JNI_ABORT);
    if (pd) (*env)->ReleasePrimitiveArrayCritical(env, xd, pd, JNI_ABORT);
    if (pq) (*env)->ReleasePrimitiveArrayCritical(env, xq, pq, JNI_ABORT);
    if (ps) (*env)->ReleasePrimitiveArrayCritical(env, sc, ps, JNI_ABORT);
    if (pw) (*env)->ReleasePrimitiveArrayCritical(env, w, pw, JNI_ABORT);
}

/* As productInterleaved, on a slab off the Java heap (addresses of its quants and scales). */
JNIEXPORT void JNICALL JNI_FN(productInterleavedAt)(JNIEnv *env, jclass cls, jlong w, jlong sc, jint slabRows,
                                                     jint first, jint count, jint blocks, jbyteArray xq,
                                                     jfloatArray xd, jfloatArray xs, jint xBlock, jint colBlocks,
                                                     jint n, jfloatArray y, jint yOff, jint yStride, jboolean add) {
    (void) cls;
    int8_t *pq = (*env)->GetPrimitiveArrayCritical(env, xq, NULL);
    float *pd = (*env)->GetPrimitiveArrayCritical(env, xd, NULL);
    float *pxs = (*env)->GetPrimitiveArrayCritical(env, xs, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (pq && pd && pxs && py) {
        product_interleaved((const uint8_t *) (intptr_t) w, (const uint16_t *) (intptr_t) sc, slabRows, first, count,
                            blocks, pq + (size_t) xBlock * QK, pd + xBlock, pxs + xBlock, colBlocks, n, py + yOff,
                            yStride, add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (pxs) (*env)->ReleasePrimitiveArrayCritical(env, xs, pxs, JNI_ABORT);
    if (pd) (*env)->ReleasePrimitiveArrayCritical(env, xd, pd, JNI_ABORT);
    if (pq) (*env)->ReleasePrimitiveArrayCritical(env, xq, pq, JNI_ABORT);
}
