/*
 * Amulet's native dot-product kernels for 16-bit float weights (issue 26): F16 (IEEE half) and BF16 rows, held as
 * WeightPanel holds them (a row's 2-byte weights in one run), times one or two float32 activation columns (the two
 * Amulet streams read each weight once). Built into the same libamulet_kernels.so as amulet_kernels.c; its own
 * variant choice, made at run time with __builtin_cpu_supports (one binary for every x86-64 CPU, never -march=native).
 *
 * Variants: 0 scalar C; 1 AVX2 (F16C vcvtph2ps for F16, BF16 widened by a 16-bit shift, FMA); 2 AVX-512F (the same,
 * 16 lanes, masked tails); 3 AVX-512 BF16: BF16 rows with vdpbf16ps on activations rounded to bfloat16 (to nearest,
 * ties to even, as llama.cpp rounds them; amulet_float16_to_bf16 below), F16 rows as variant 2.
 * On aarch64: 0 scalar C; 1 NEON (fcvtl for F16, shll by 16 for BF16, fmla), which sums exactly as the AVX2 variant
 * (8 lanes in two float32x4, the same fused multiply-adds and reduction), so its results are AVX2's bits.
 *
 * Arithmetic: float32 products summed in float32 (vdpbf16ps: a pair of bf16 products added to a float32 lane); with
 * vdpbf16ps, one accumulator per (row, column) whatever the number of columns (tile_bf16), so that a column's result
 * is the one it gets alone.
 */
#include <jni.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define HALF_X86 1
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#define HALF_ARM 1
#include "amulet_f32x8_neon.h"
#endif

enum { H_SCALAR = 0, H_AVX2 = 1, H_AVX512 = 2, H_AVX512BF16 = 3, H_COUNT = 4 };
#ifdef HALF_ARM
/* 3 (bf16 activations) is never supported on aarch64: NativeFloat16Kernels reads it as vdpbf16ps */
enum { H_NEON = 1 };
static const char *const HALF_NAMES[H_COUNT] = {"scalar", "neon", "none", "none"};
#else
static const char *const HALF_NAMES[H_COUNT] = {"scalar", "avx2-f16c", "avx512f", "avx512-bf16"};
#endif

/*
 * Rows [0, rows) of cols weights each (row r at w + r * cols) times n (1 or 2) columns of x (column c at
 * x + c * xStride; xb the same columns rounded to bf16, or NULL), into y[c * yStride + r], stored or (add) added to.
 */
typedef void (*half_fn)(int bf, const uint16_t *w, int rows, int cols, const float *x, const uint16_t *xb,
                        int xStride, int n, float *y, int yStride, int add);

static inline float bf16_to_float(uint16_t h) {
    uint32_t bits = (uint32_t) h << 16;
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* An IEEE half as float32 (exact for every finite value, subnormals included). */
static inline float f16_to_float(uint16_t h) {
    int32_t bits = (int32_t) ((uint32_t) h << 16);
    bits = (bits >> 3) & (int32_t) 0x8FFFE000;
    float f;
    memcpy(&f, &bits, 4);
    return f * 0x1p112f;
}

/* float32 to bfloat16, to nearest with ties to even; a NaN stays a (quiet) NaN. */
static inline uint16_t float_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7FFFFFFFu) > 0x7F800000u) {
        return (uint16_t) ((u >> 16) | 0x40);
    }
    return (uint16_t) ((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

static inline void put(float *y, int yStride, int r, int c, float s, int add) {
    float *p = y + (size_t) c * yStride + r;
    *p = add ? *p + s : s;
}

/* ---------------------------------------------------------------- scalar (any CPU) */

static void half_scalar(int bf, const uint16_t *w, int rows, int cols, const float *x, const uint16_t *xb,
                        int xStride, int n, float *y, int yStride, int add) {
    (void) xb;
    for (int r = 0; r < rows; r++) {
        const uint16_t *wr = w + (size_t) r * cols;
        for (int c = 0; c < n; c++) {
            const float *xc = x + (size_t) c * xStride;
            float s = 0;
            for (int i = 0; i < cols; i++) {
                s += (bf ? bf16_to_float(wr[i]) : f16_to_float(wr[i])) * xc[i];
            }
            put(y, yStride, r, c, s, add);
        }
    }
}

static void to_bf16_scalar(const float *x, int values, uint16_t *out) {
    for (int i = 0; i < values; i++) {
        out[i] = float_to_bf16(x[i]);
    }
}

/* The rows of a variant (n = 1 or 2) with its row function ROW(bf, two, wr, cols, x0, x1, s0, s1). */
#define ROWS_BODY(ROW)                                                                                                \
    const float *x1 = x + xStride;                                                                                    \
    for (int r = 0; r < rows; r++) {                                                                                  \
        const uint16_t *wr = w + (size_t) r * cols;                                                                   \
        float s0, s1;                                                                                                 \
        if (n == 2) {                                                                                                 \
            if (bf) ROW(1, 1, wr, cols, x, x1, &s0, &s1); else ROW(0, 1, wr, cols, x, x1, &s0, &s1);                  \
            put(y, yStride, r, 1, s1, add);                                                                           \
        } else {                                                                                                      \
            if (bf) ROW(1, 0, wr, cols, x, x1, &s0, NULL); else ROW(0, 0, wr, cols, x, x1, &s0, NULL);                \
        }                                                                                                             \
        put(y, yStride, r, 0, s0, add);                                                                               \
    }

#ifdef HALF_X86
#define H_AVX2_T __attribute__((target("avx2,fma,f16c")))
#define H_512_T __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl")))
#define H_BF16_T __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512bf16")))
#define INLINE static inline __attribute__((always_inline))

/* ---------------------------------------------------------------- AVX2 + FMA + F16C */

static inline H_AVX2_T float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* Eight weights from p as float32: vcvtph2ps for F16, a 16-bit shift for BF16. */
INLINE H_AVX2_T __m256 widen8(int bf, const uint16_t *p) {
    __m128i h = _mm_loadu_si128((const __m128i *) p);
    return bf ? _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)) : _mm256_cvtph_ps(h);
}

/* row_avx2: one row against one or two columns. */
#define FN(name) name##_avx2
#define TARGET H_AVX2_T
#define VT __m256
#define VZERO() _mm256_setzero_ps()
#define VLOAD(p) _mm256_loadu_ps(p)
#define VWIDEN(bf, p) widen8((bf), (p))
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUM(v) hsum8(v)
#include "amulet_float16_row.h"

static H_AVX2_T void half_avx2(int bf, const uint16_t *w, int rows, int cols, const float *x, const uint16_t *xb,
                               int xStride, int n, float *y, int yStride, int add) {
    (void) xb;
    ROWS_BODY(row_avx2)
}

/* ---------------------------------------------------------------- AVX-512F (+BW/VL for masked 16-bit loads) */

INLINE H_512_T __m512 widen16(int bf, __m256i h) {
    return bf ? _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16)) : _mm512_cvtph_ps(h);
}

INLINE H_512_T void row_avx512(int bf, int two, const uint16_t *wr, int cols, const float *x0, const float *x1,
                               float *s0, float *s1) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int i = 0;
    for (; i + 64 <= cols; i += 64) {
        /*
         * The activations first (in L1), then each weight vector widened once and used for both columns at once:
         * two columns cost 1.02-1.03x one this way in a whole step's products (C harness), 1.07-1.14x with the
         * weights widened first and each column's activations loaded beside its fma.
         */
        __m512 x00 = _mm512_loadu_ps(x0 + i), x01 = _mm512_loadu_ps(x0 + i + 16), x02 = _mm512_loadu_ps(x0 + i + 32),
               x03 = _mm512_loadu_ps(x0 + i + 48);
        __m512 x10 = x00, x11 = x01, x12 = x02, x13 = x03;
        if (two) {
            x10 = _mm512_loadu_ps(x1 + i);
            x11 = _mm512_loadu_ps(x1 + i + 16);
            x12 = _mm512_loadu_ps(x1 + i + 32);
            x13 = _mm512_loadu_ps(x1 + i + 48);
        }
        __m512 w0 = widen16(bf, _mm256_loadu_si256((const __m256i *) (wr + i)));
        a0 = _mm512_fmadd_ps(w0, x00, a0);
        if (two) {
            b0 = _mm512_fmadd_ps(w0, x10, b0);
        }
        __m512 w1 = widen16(bf, _mm256_loadu_si256((const __m256i *) (wr + i + 16)));
        a1 = _mm512_fmadd_ps(w1, x01, a1);
        if (two) {
            b1 = _mm512_fmadd_ps(w1, x11, b1);
        }
        __m512 w2 = widen16(bf, _mm256_loadu_si256((const __m256i *) (wr + i + 32)));
        a2 = _mm512_fmadd_ps(w2, x02, a2);
        if (two) {
            b2 = _mm512_fmadd_ps(w2, x12, b2);
        }
        __m512 w3 = widen16(bf, _mm256_loadu_si256((const __m256i *) (wr + i + 48)));
        a3 = _mm512_fmadd_ps(w3, x03, a3);
        if (two) {
            b3 = _mm512_fmadd_ps(w3, x13, b3);
        }
    }
    for (; i < cols; i += 16) {
        /* whole vectors, then one masked tail: nothing read past the row */
        int m = cols - i < 16 ? cols - i : 16;
        __mmask16 k = (__mmask16) ((1u << m) - 1);
        __m512 w0 = widen16(bf, _mm256_maskz_loadu_epi16(k, wr + i));
        a0 = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(k, x0 + i), a0);
        if (two) {
            b0 = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(k, x1 + i), b0);
        }
    }
    *s0 = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)));
    if (two) {
        *s1 = _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(b0, b1), _mm512_add_ps(b2, b3)));
    }
}

static H_512_T void half_avx512(int bf, const uint16_t *w, int rows, int cols, const float *x, const uint16_t *xb,
                                int xStride, int n, float *y, int yStride, int add) {
    (void) xb;
    ROWS_BODY(row_avx512)
}

/* ---------------------------------------------------------------- AVX-512 BF16: vdpbf16ps */

/* Pairs of bf16 products summed into float32 lanes: 32 weights an instruction. */
INLINE H_BF16_T __m512 dot_bf16(__m512 acc, __m512i x, __m512i w) {
    return _mm512_dpbf16_ps(acc, (__m512bh) x, (__m512bh) w);
}

/*
 * 32 weights as two 256-bit loads: a Java array's rows are not 64-byte aligned, and streaming them from memory with
 * 512-bit loads that cross cache lines measured 1.4-1.8x slower (4864 x 896 rows at a 16-byte offset).
 */
INLINE H_BF16_T __m512i load32(const uint16_t *p) {
    return _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *) p)),
                              _mm256_loadu_si256((const __m256i *) (p + 16)), 1);
}

/* Tile shapes: BF16_TILE_R rows x BF16_TILE_C columns for many columns, BF16_DECODE_R rows for one or two. */
#ifndef BF16_TILE_R
#define BF16_TILE_R 4
#endif
#ifndef BF16_TILE_C
#define BF16_TILE_C 6
#endif
#ifndef BF16_DECODE_R
#define BF16_DECODE_R 8
#endif
/* 1: the decode tile's rows from equal runs of the row range; 0: adjacent rows and an L2 prefetch of the next tile */
#ifndef BF16_DECODE_RUNS
#define BF16_DECODE_RUNS 0
#endif
#define BF16_MAX_R (BF16_DECODE_R > BF16_TILE_R ? BF16_DECODE_R : BF16_TILE_R)
#define BF16_MAX_C 6

/*
 * The sum of v's 16 lanes in fixed pairs: lane i + lane i + 8, then those i + i + 4, then i + i + 2, then the two
 * left (written out, not _mm512_reduce_add_ps, whose pairs are the compiler's choice).
 */
INLINE H_BF16_T float reduce1(__m512 v) {
    __m256 h = _mm256_add_ps(_mm512_castps512_ps256(v),
                             _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
    __m128 q = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    q = _mm_add_ps(q, _mm_permute_ps(q, 0x4E));
    q = _mm_add_ps(q, _mm_permute_ps(q, 0xB1));
    return _mm_cvtss_f32(q);
}

/* reduce1 of a, b, c and d at once, in that order: the same pairs, so the same bits (a + b == b + a). */
INLINE H_BF16_T __m128 reduce4(__m512 a, __m512 b, __m512 c, __m512 d) {
    __m512 ab = _mm512_add_ps(_mm512_shuffle_f32x4(a, b, 0x44), _mm512_shuffle_f32x4(a, b, 0xEE));
    __m512 cd = _mm512_add_ps(_mm512_shuffle_f32x4(c, d, 0x44), _mm512_shuffle_f32x4(c, d, 0xEE));
    /* ab: a's 8 sums, then b's; cd likewise; quarters 0, 2 of each against quarters 1, 3 */
    __m512 q = _mm512_add_ps(_mm512_shuffle_f32x4(ab, cd, 0x88), _mm512_shuffle_f32x4(ab, cd, 0xDD));
    /* q: 4 sums of a, b, c, d in its quarters; within each, i + i + 2, then the two */
    q = _mm512_add_ps(q, _mm512_permute_ps(q, 0x4E));
    q = _mm512_add_ps(q, _mm512_permute_ps(q, 0xB1));
    /* lanes 0, 4, 8, 12 */
    __m512i idx = _mm512_set_epi32(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 12, 8, 4, 0);
    return _mm512_castps512_ps128(_mm512_permutexvar_ps(idx, q));
}

/*
 * R rows x C columns of BF16 weights times bf16 activations (R and C constants after inlining; R * C accumulators).
 * The arithmetic of one (row, column), the same in every tile shape: ONE float32 accumulator, to which vdpbf16ps adds
 * the products of weights and activations k..k+31 for k = 0, 32, 64, ... (the last step a masked load: zeros past the
 * row's end), then its 16 lanes summed in reduce1's pairs. A column's result therefore never depends on the
 * rows or columns beside it (the tile it falls in, the column or row range of the call). A step loads R weight
 * vectors and C activation vectors for R * C products (4 x 6: 10 loads for 24 vdpbf16ps). Row r of the tile is
 * w + r * rowStep * cols, its results y[c * yStride + r * rowStep].
 */
INLINE H_BF16_T void tile_bf16(int R, int C, const uint16_t *w, int rowStep, int cols, const uint16_t *xb, int xStride,
                               float *y, int yStride, int add) {
    __m512 acc[BF16_MAX_R][BF16_MAX_C];
#pragma GCC unroll 16
    for (int r = 0; r < R; r++) {
#pragma GCC unroll 6
        for (int c = 0; c < C; c++) {
            acc[r][c] = _mm512_setzero_ps();
        }
    }
    int i = 0;
    for (; i + 32 <= cols; i += 32) {
        __m512i wv[BF16_MAX_R];
#pragma GCC unroll 16
        for (int r = 0; r < R; r++) {
            wv[r] = load32(w + (size_t) r * rowStep * cols + i);
#if !BF16_DECODE_RUNS
            if (C <= 2) {
                /* a decode step streams the weights from memory: the same place in the next tile's rows, into L2 */
                _mm_prefetch((const char *) (w + (size_t) (r + R) * cols + i), _MM_HINT_T1);
            }
#endif
        }
#pragma GCC unroll 6
        for (int c = 0; c < C; c++) {
            __m512i xv = _mm512_loadu_si512(xb + (size_t) c * xStride + i);
#pragma GCC unroll 16
            for (int r = 0; r < R; r++) {
                acc[r][c] = dot_bf16(acc[r][c], xv, wv[r]);
            }
        }
    }
    if (i < cols) {
        __mmask32 k = (__mmask32) ((1u << (cols - i)) - 1);
        __m512i wv[BF16_MAX_R];
#pragma GCC unroll 16
        for (int r = 0; r < R; r++) {
            wv[r] = _mm512_maskz_loadu_epi16(k, w + (size_t) r * rowStep * cols + i);
        }
#pragma GCC unroll 6
        for (int c = 0; c < C; c++) {
            __m512i xv = _mm512_maskz_loadu_epi16(k, xb + (size_t) c * xStride + i);
#pragma GCC unroll 16
            for (int r = 0; r < R; r++) {
                acc[r][c] = dot_bf16(acc[r][c], xv, wv[r]);
            }
        }
    }
    if (R % 4 == 0) {
#pragma GCC unroll 6
        for (int c = 0; c < C; c++) {
#pragma GCC unroll 4
            for (int r = 0; r < R; r += 4) {
                __m128 s = reduce4(acc[r][c], acc[r + 1][c], acc[r + 2][c], acc[r + 3][c]);
                float *p = y + (size_t) c * yStride + (size_t) r * rowStep;
                if (rowStep == 1) {
                    _mm_storeu_ps(p, add ? _mm_add_ps(_mm_loadu_ps(p), s) : s);
                } else {
                    float v[4];
                    _mm_storeu_ps(v, s);
                    for (int j = 0; j < 4; j++) {
                        put(p, 0, j * rowStep, 0, v[j], add);
                    }
                }
            }
        }
        return;
    }
#pragma GCC unroll 16
    for (int r = 0; r < R; r++) {
#pragma GCC unroll 6
        for (int c = 0; c < C; c++) {
            put(y, yStride, r * rowStep, c, reduce1(acc[r][c]), add);
        }
    }
}

/* The tile shapes used, each compiled with its constants: R rows x C columns at w, xb, y (see tile_bf16). */
#define BF16_TILE_CASE(R, C)                                                                                          \
    case (R) * 16 + (C): tile_bf16(R, C, w, rowStep, cols, xb, xStride, y, yStride, add); return;
static H_BF16_T void tile_bf16_any(int R, int C, const uint16_t *w, int rowStep, int cols, const uint16_t *xb,
                                   int xStride, float *y, int yStride, int add) {
    switch (R * 16 + C) {
        BF16_TILE_CASE(1, 1) BF16_TILE_CASE(1, 2) BF16_TILE_CASE(1, 3) BF16_TILE_CASE(1, 4) BF16_TILE_CASE(1, 5)
        BF16_TILE_CASE(1, 6)
#if BF16_DECODE_R != 1
        BF16_TILE_CASE(BF16_DECODE_R, 1) BF16_TILE_CASE(BF16_DECODE_R, 2)
#endif
#if BF16_TILE_R != BF16_DECODE_R
        BF16_TILE_CASE(BF16_TILE_R, 1) BF16_TILE_CASE(BF16_TILE_R, 2)
#endif
        BF16_TILE_CASE(BF16_TILE_R, 3) BF16_TILE_CASE(BF16_TILE_R, 4) BF16_TILE_CASE(BF16_TILE_R, 5)
        BF16_TILE_CASE(BF16_TILE_R, 6)
        default:
            /* not reached: every shape the callers ask for is above */
            for (int r = 0; r < R; r++) {
                for (int c = 0; c < C; c++) {
                    tile_bf16(1, 1, w + (size_t) r * rowStep * cols, 1, cols, xb + (size_t) c * xStride, xStride,
                              y + (size_t) c * yStride + (size_t) r * rowStep, yStride, add);
                }
            }
    }
}

/* Rows [r0, r1) times C columns: tiles of R rows, then the rows left over one at a time. */
static H_BF16_T void rows_bf16(int R, int C, const uint16_t *w, int r0, int r1, int cols, const uint16_t *xb,
                               int xStride, float *y, int yStride, int add) {
    int r = r0;
    for (; r + R <= r1; r += R) {
        tile_bf16_any(R, C, w + (size_t) r * cols, 1, cols, xb, xStride, y + r, yStride, add);
    }
    for (; r < r1; r++) {
        tile_bf16_any(1, C, w + (size_t) r * cols, 1, cols, xb, xStride, y + r, yStride, add);
    }
}

static H_BF16_T void half_avx512bf16(int bf, const uint16_t *w, int rows, int cols, const float *x,
                                     const uint16_t *xb, int xStride, int n, float *y, int yStride, int add) {
    if (!bf || xb == NULL) {
        /* F16 rows, or BF16 rows whose activations were not rounded to bf16: the AVX-512F kernel */
        half_avx512(bf, w, rows, cols, x, xb, xStride, n, y, yStride, add);
        return;
    }
    /*
     * One or two columns (a decode step) stream the weights from memory: BF16_DECODE_R rows at a time for their
     * loads and vdpbf16ps chains to overlap, the next tile's rows prefetched into L2 (tile_bf16), the rows left over
     * one at a time. (Rows from BF16_DECODE_R equal runs, one long stream each, measured 0.82-0.89x the old kernel
     * in whole decode runs against 0.93-1.02x for adjacent rows with the prefetch.)
     */
#if BF16_DECODE_RUNS
    int run = rows / BF16_DECODE_R;
    for (int r = 0; r < run; r++) {
        tile_bf16_any(BF16_DECODE_R, n, w + (size_t) r * cols, run, cols, xb, xStride, y + r, yStride, add);
    }
    rows_bf16(1, n, w, run * BF16_DECODE_R, rows, cols, xb, xStride, y, yStride, add);
#else
    rows_bf16(BF16_DECODE_R, n, w, 0, rows, cols, xb, xStride, y, yStride, add);
#endif
}

/*
 * Many columns on BF16 rows: blocks of HALF_BLOCK_COLS columns (their bf16 activations stay in L2) over the whole
 * matrix, each in row blocks of about BF16_L1_BYTES of weights; within a row block, column tiles of BF16_TILE_C
 * walk down the rows in tiles of BF16_TILE_R (the tile's activations stay in L1, the block's weights in L1/L2).
 */
#ifndef HALF_BLOCK_COLS
#define HALF_BLOCK_COLS 48
#endif
#ifndef BF16_L1_BYTES
#define BF16_L1_BYTES 16384
#endif

/* n columns of bf16 activations on BF16 rows, in tiles (the columns left over in a narrower tile). */
static H_BF16_T void many_bf16(const uint16_t *w, int rows, int cols, const float *x, const uint16_t *xb, int xStride,
                               int n, float *y, int yStride, int add) {
    (void) x;
    int rowBlock = BF16_L1_BYTES / (2 * cols);
    rowBlock = rowBlock < BF16_TILE_R ? BF16_TILE_R : rowBlock - rowBlock % BF16_TILE_R;
    for (int c0 = 0; c0 < n; c0 += HALF_BLOCK_COLS) {
        int c1 = n - c0 < HALF_BLOCK_COLS ? n : c0 + HALF_BLOCK_COLS;
        for (int r0 = 0; r0 < rows; r0 += rowBlock) {
            int r1 = rows - r0 < rowBlock ? rows : r0 + rowBlock;
            for (int c = c0; c < c1; c += BF16_TILE_C) {
                int width = c1 - c < BF16_TILE_C ? c1 - c : BF16_TILE_C;
                rows_bf16(BF16_TILE_R, width, w, r0, r1, cols, xb + (size_t) c * xStride, xStride,
                          y + (size_t) c * yStride, yStride, add);
            }
        }
    }
}

/* float_to_bf16 sixteen at a time (the same rounding, NaN included). */
static H_512_T void to_bf16_avx512(const float *x, int values, uint16_t *out) {
    const __m512i abs = _mm512_set1_epi32(0x7FFFFFFF), inf = _mm512_set1_epi32(0x7F800000);
    const __m512i half = _mm512_set1_epi32(0x7FFF), one = _mm512_set1_epi32(1), quiet = _mm512_set1_epi32(0x40);
    int i = 0;
    for (; i + 16 <= values; i += 16) {
        __m512i u = _mm512_castps_si512(_mm512_loadu_ps(x + i));
        __m512i hi = _mm512_srli_epi32(u, 16);
        __m512i rounded = _mm512_srli_epi32(_mm512_add_epi32(u, _mm512_add_epi32(half, _mm512_and_si512(hi, one))), 16);
        __mmask16 nan = _mm512_cmpgt_epi32_mask(_mm512_and_si512(u, abs), inf);
        __m512i r = _mm512_mask_or_epi32(rounded, nan, hi, quiet);
        _mm256_storeu_si256((__m256i *) (out + i), _mm512_cvtepi32_epi16(r));
    }
    to_bf16_scalar(x + i, values - i, out + i);
}
#endif /* HALF_X86 */

#ifdef HALF_ARM
/* ---------------------------------------------------------------- aarch64 NEON */

/* Four weights from p as float32: fcvtl for F16 (exact, as vcvtph2ps), a 16-bit left shift for BF16. */
static inline __attribute__((always_inline)) float32x4_t widen4_neon(int bf, const uint16_t *p) {
    uint16x4_t h = vld1_u16(p);
    return bf ? vreinterpretq_f32_u32(vshll_n_u16(h, 16)) : vcvt_f32_f16(vreinterpret_f16_u16(h));
}

/* Eight weights from p as an f32x8 (the AVX2 variant's widen8 on NEON). */
static inline __attribute__((always_inline)) f32x8 widen8_neon(int bf, const uint16_t *p) {
    f32x8 v = {widen4_neon(bf, p), widen4_neon(bf, p + 4)};
    return v;
}

/* row_neon: row_avx2 with each __m256 an f32x8 (two float32x4_t): the same operations, so the same bits. */
#define FN(name) name##_neon
#define TARGET
#define VT f32x8
#define VZERO() f32x8_zero()
#define VLOAD(p) f32x8_load(p)
#define VWIDEN(bf, p) widen8_neon((bf), (p))
#define VFMA(a, b, c) f32x8_fma((a), (b), (c))
#define VADD(a, b) f32x8_add((a), (b))
#define VSUM(v) f32x8_sum(v)
#include "amulet_float16_row.h"

static void half_neon(int bf, const uint16_t *w, int rows, int cols, const float *x, const uint16_t *xb, int xStride,
                      int n, float *y, int yStride, int add) {
    (void) xb;
    ROWS_BODY(row_neon)
}
#endif /* HALF_ARM */

/* ---------------------------------------------------------------- dispatch */

static int half_supported = -1;
static int half_current = H_SCALAR;

static void half_init(void) {
    if (half_supported >= 0) {
        return;
    }
    int m = 1 << H_SCALAR;
#ifdef HALF_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        m |= 1 << H_AVX2; /* every AVX2 CPU has F16C */
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl")) {
            m |= 1 << H_AVX512;
            if (__builtin_cpu_supports("avx512bf16")) {
                m |= 1 << H_AVX512BF16;
            }
        }
    }
#endif
#ifdef HALF_ARM
    m |= 1 << H_NEON;
#endif
    int best = H_SCALAR;
    for (int v = H_COUNT - 1; v > 0; v--) {
        if (m & (1 << v)) {
            best = v;
            break;
        }
    }
    half_current = best;
    half_supported = m;
}

static half_fn half_kernel(int v) {
    switch (v) {
#ifdef HALF_X86
        case H_AVX2: return half_avx2;
        case H_AVX512: return half_avx512;
        case H_AVX512BF16: return half_avx512bf16;
#endif
#ifdef HALF_ARM
        case H_NEON: return half_neon;
#endif
        default: return half_scalar;
    }
}

/* ---------------------------------------------------------------- JNI: ...transformer.weights.NativeFloat16Kernels */

#ifndef HALF_MANY_ROWS
#define HALF_MANY_ROWS 32
#endif

/*
 * Any number of columns: one or two straight to the kernel; more in the BF16 tiles (vdpbf16ps) or in pairs over
 * blocks of HALF_MANY_ROWS rows that stay in the cache. A column's result is the one it gets alone.
 */
static void half_product_any(int v, int bf, const uint16_t *w, int rows, int cols, const float *x, const uint16_t *xb,
                             int xStride, int n, float *y, int yStride, int add) {
    half_fn f = half_kernel(v);
    if (n <= 2) {
        f(bf, w, rows, cols, x, xb, xStride, n, y, yStride, add);
        return;
    }
#ifdef HALF_X86
    if (v == H_AVX512BF16 && bf && xb != NULL) {
        many_bf16(w, rows, cols, x, xb, xStride, n, y, yStride, add);
        return;
    }
#endif
    for (int r = 0; r < rows; r += HALF_MANY_ROWS) {
        int count = rows - r < HALF_MANY_ROWS ? rows - r : HALF_MANY_ROWS;
        for (int c = 0; c < n; c += 2) {
            f(bf, w + (size_t) r * cols, count, cols, x + (size_t) c * xStride,
              xb == NULL ? NULL : xb + (size_t) c * xStride, xStride, n - c < 2 ? 1 : 2,
              y + (size_t) c * yStride + r, yStride, add);
        }
    }
}

#define HALF_JNI(name) Java_io_github_amulet4j_transformer_weights_NativeFloat16Kernels_##name

JNIEXPORT jint JNICALL HALF_JNI(supportedVariants)(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    half_init();
    return half_supported;
}

JNIEXPORT jint JNICALL HALF_JNI(variant)(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    half_init();
    return half_current;
}

/* Selects variant v when this CPU supports it; returns the variant in use afterwards. */
JNIEXPORT jint JNICALL HALF_JNI(selectVariant)(JNIEnv *env, jclass cls, jint v) {
    (void) env; (void) cls;
    half_init();
    if (v >= 0 && v < H_COUNT && (half_supported & (1 << v))) {
        half_current = v;
    }
    return half_current;
}

JNIEXPORT jstring JNICALL HALF_JNI(variantName)(JNIEnv *env, jclass cls, jint v) {
    (void) cls;
    return (*env)->NewStringUTF(env, v >= 0 && v < H_COUNT ? HALF_NAMES[v] : "unknown");
}

/* x[0, values) rounded to bfloat16 into out (to nearest, ties to even). */
JNIEXPORT void JNICALL HALF_JNI(toBf16)(JNIEnv *env, jclass cls, jfloatArray x, jint values, jshortArray out) {
    (void) cls;
    half_init();
    float *px = (*env)->GetPrimitiveArrayCritical(env, x, NULL);
    uint16_t *po = (*env)->GetPrimitiveArrayCritical(env, out, NULL);
    if (px && po) {
#ifdef HALF_X86
        if (half_supported & (1 << H_AVX512)) {
            to_bf16_avx512(px, values, po);
        } else
#endif
        to_bf16_scalar(px, values, po);
    }
    if (po) (*env)->ReleasePrimitiveArrayCritical(env, out, po, 0);
    if (px) (*env)->ReleasePrimitiveArrayCritical(env, x, px, JNI_ABORT);
}

/*
 * Rows [0, rows) of a slab of 16-bit weights from byte wOff (cols weights a row, BF16 when bf) times n (any number)
 * columns: float32 x from xOff (column c at xOff + c * xStride) or, where xb is not null and the variant has
 * vdpbf16ps, the same values rounded to bf16 in xb; y[yOff + c * yStride + r] stored or (add) added to.
 * The Java side checks every bound.
 */
JNIEXPORT void JNICALL HALF_JNI(product)(JNIEnv *env, jclass cls, jboolean bf, jbyteArray w, jint wOff, jint rows,
                                          jint cols, jfloatArray x, jshortArray xb, jint xOff, jint xStride, jint n,
                                          jfloatArray y, jint yOff, jint yStride, jboolean add) {
    (void) cls;
    half_init();
    uint8_t *pw = (*env)->GetPrimitiveArrayCritical(env, w, NULL);
    float *px = (*env)->GetPrimitiveArrayCritical(env, x, NULL);
    uint16_t *pb = xb == NULL || half_current != H_AVX512BF16 ? NULL : (*env)->GetPrimitiveArrayCritical(env, xb, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (pw && px && py && (xb == NULL || half_current != H_AVX512BF16 || pb)) {
        half_product_any(half_current, bf ? 1 : 0, (const uint16_t *) (pw + wOff), rows, cols, px + xOff,
                         pb ? pb + xOff : NULL, xStride, n, py + yOff, yStride, add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (pb) (*env)->ReleasePrimitiveArrayCritical(env, xb, pb, JNI_ABORT);
    if (px) (*env)->ReleasePrimitiveArrayCritical(env, x, px, JNI_ABORT);
    if (pw) (*env)->ReleasePrimitiveArrayCritical(env, w, pw, JNI_ABORT);
}

/* As product, on weights off the Java heap: w is the address of the first row (a NativeSlab's). */
JNIEXPORT void JNICALL HALF_JNI(productAt)(JNIEnv *env, jclass cls, jboolean bf, jlong w, jint rows, jint cols,
                                            jfloatArray x, jshortArray xb, jint xOff, jint xStride, jint n,
                                            jfloatArray y, jint yOff, jint yStride, jboolean add) {
    (void) cls;
    half_init();
    float *px = (*env)->GetPrimitiveArrayCritical(env, x, NULL);
    uint16_t *pb = xb == NULL || half_current != H_AVX512BF16 ? NULL : (*env)->GetPrimitiveArrayCritical(env, xb, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (px && py && (xb == NULL || half_current != H_AVX512BF16 || pb)) {
        half_product_any(half_current, bf ? 1 : 0, (const uint16_t *) (intptr_t) w, rows, cols, px + xOff,
                         pb ? pb + xOff : NULL, xStride, n, py + yOff, yStride, add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (pb) (*env)->ReleasePrimitiveArrayCritical(env, xb, pb, JNI_ABORT);
    if (px) (*env)->ReleasePrimitiveArrayCritical(env, x, px, JNI_ABORT);
}
