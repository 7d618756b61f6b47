/*
 * Amulet's native dot-product kernels (issue 26): Q8_0 and Q4_0 weights (ggml's block_q8_0/block_q4_0, held as
 * WeightPanel holds them: a row's quants in one run, its float16 scales in another) times activations quantized per
 * block of 32 to 8 bits (llama.cpp's Q8_0 with float32 scales and block sums), one or two columns (the two Amulet
 * streams read each weight once).
 *
 * C and intrinsics only. Every variant is compiled with its own per-function target attribute; the one used is chosen
 * at run time with __builtin_cpu_supports, so one binary runs on any x86-64 machine (never -march=native).
 * Variants: 0 scalar C, 1 AVX2 (vpmaddubsw + vpmaddwd), 2 AVX-VNNI (256-bit vpdpbusd), 3 AVX-512 VNNI (512-bit
 * vpdpbusd, two blocks an instruction, scales of 16 blocks widened and multiplied at once).
 * On aarch64: 0 scalar C, 1 NEON (smull + pairwise adds, every aarch64 CPU), 2 NEON dotprod (sdot, ARMv8.2, chosen
 * where getauxval(AT_HWCAP) has HWCAP_ASIMDDP); both sum exactly as the AVX2 variant (below), so their results are
 * AVX2's bits (src/test/c/kernels_check.sh compares them).
 *
 * Arithmetic, the same in every variant: per block k of a row, the exact integer dot product of the weight quants
 * with the activation quants, times the weight scale and the activation scale (float32), summed in float32.
 * Q4_0's nibbles are multiplied unsigned (0..15) and the block's 8 * (sum of activation quants) subtracted through
 * the precomputed block sum (scale included), as llama.cpp does.
 */
#include <jni.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#include "amulet_q8q4.h"
#include "amulet_cpu.h"

#define QK 32
/* Many columns: rows that a block of columns passes over before the next rows, and columns a block (L2-sized). */
#define MANY_ROWS 64
#define MANY_COLS 64
/*
 * Fewest columns the AVX-512 VNNI tiles take; fewer (a decode step of a few streams) go in pairs over blocks of
 * MANY_ROWS rows, as on the other variants. Per weight byte the pair kernel runs fewer float operations (one fma a
 * pair of blocks and column, where a tile also multiplies the two scales), which is what a step of a few columns is
 * bound by once the weights come in ahead (issue 26, serving): one thread over the 151,936 x 896 Q8_0 head took
 * 16.4-17.6 ms for 8 columns in pairs against 20.8-22.5 ms in tiles (30.5-33.9 ms and 33.2-36.5 ms for 16), and the
 * same on 896 x 4864.
 */
#define TILE_MIN_COLS 16

enum {
    V_SCALAR = AMULET_I8_SCALAR, V_AVX2 = AMULET_I8_AVX2, V_AVXVNNI = AMULET_I8_AVXVNNI,
    V_AVX512VNNI = AMULET_I8_AVX512VNNI, V_COUNT = AMULET_I8_COUNT
};
#ifdef AMULET_ARM
/* the same numbers on aarch64 (the Java side counts V_COUNT variants); 3 is never supported there */
enum { V_NEON = AMULET_I8_NEON, V_NEON_DOTPROD = AMULET_I8_NEON_DOTPROD };
#endif

/* A weight row range times one or two activation columns: see amulet_product below for the arguments. */
typedef void (*kernel_fn)(const uint8_t *w, const uint16_t *sc, int rows, int blocks, const int8_t *xq,
                          const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride, int add);

static inline void store(float *y, int yStride, int r, int c, float s, int add) {
    float *p = y + (size_t) c * yStride + r;
    *p = add ? *p + s : s;
}

/* ---------------------------------------------------------------- scalar (any CPU) */

static void q80_scalar(const uint8_t *w, const uint16_t *sc, int rows, int blocks, const int8_t *xq,
                       const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride, int add) {
    (void) xs;
    for (int r = 0; r < rows; r++) {
        const int8_t *wr = (const int8_t *) w + (size_t) r * blocks * QK;
        for (int c = 0; c < n; c++) {
            const int8_t *x = xq + (size_t) c * colBlocks * QK;
            const float *d = xd + (size_t) c * colBlocks;
            float s = 0;
            for (int k = 0; k < blocks; k++) {
                int32_t dot = 0;
                for (int j = 0; j < QK; j++) {
                    dot += (int32_t) wr[k * QK + j] * x[k * QK + j];
                }
                s += (float) dot * (half_to_float(sc[(size_t) r * blocks + k]) * d[k]);
            }
            store(y, yStride, r, c, s, add);
        }
    }
}

static void q40_scalar(const uint8_t *w, const uint16_t *sc, int rows, int blocks, const int8_t *xq,
                       const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride, int add) {
    for (int r = 0; r < rows; r++) {
        const uint8_t *wr = w + (size_t) r * blocks * (QK / 2);
        for (int c = 0; c < n; c++) {
            const int8_t *x = xq + (size_t) c * colBlocks * QK;
            const float *d = xd + (size_t) c * colBlocks;
            const float *bs = xs + (size_t) c * colBlocks;
            float s = 0, corr = 0;
            for (int k = 0; k < blocks; k++) {
                int32_t dot = 0;
                for (int j = 0; j < QK / 2; j++) {
                    uint8_t b = wr[k * (QK / 2) + j];
                    dot += (int32_t) (b & 0x0F) * x[k * QK + j] + (int32_t) (b >> 4) * x[k * QK + j + QK / 2];
                }
                float dw = half_to_float(sc[(size_t) r * blocks + k]);
                s += (float) dot * (dw * d[k]);
                corr += dw * bs[k];
            }
            store(y, yStride, r, c, s - 8 * corr, add);
        }
    }
}

/* Per block of 32: d = max|x| / 127, q = round-half-even(x / d), s = d * sum(q). */
static void quantize_scalar(const float *x, int values, int8_t *q, float *d, float *s) {
    for (int k = 0; k < values / QK; k++) {
        const float *v = x + (size_t) k * QK;
        float amax = 0;
        for (int j = 0; j < QK; j++) {
            float a = fabsf(v[j]);
            amax = a > amax ? a : amax;
        }
        float dk = amax / 127.0f;
        float id = dk != 0 ? 1.0f / dk : 0.0f;
        int32_t sum = 0;
        for (int j = 0; j < QK; j++) {
            int32_t qi = (int32_t) rintf(v[j] * id);
            q[(size_t) k * QK + j] = (int8_t) qi;
            sum += qi;
        }
        d[k] = dk;
        s[k] = dk * (float) sum;
    }
}

#ifdef AMULET_X86
/* ---------------------------------------------------------------- AVX2 + FMA + F16C */

static inline T_AVX2 float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/*
 * Rows ahead that a one- or two-column kernel asks the cache for (prefetcht0): the row PREFETCH_ROWS on of the weights'
 * quants and of their scales. The hardware prefetchers stop at every 4 KiB page of each of the two streams (the quants
 * and the scales apart), and a row's first loads waited for memory (a Q4_0 decode spent a sixth of the kernel's time on
 * the load of a row's scales); asked for 8 rows ahead, one thread multiplied the Q4_0 layers of the Qwen2.5-0.5B shape
 * 16% faster, Q8_0 3%. Past the slab's end the hint is dropped (a prefetch never faults).
 */
#define PREFETCH_ROWS 8

static inline void prefetch_row(const uint8_t *wr, size_t rowBytes, const uint16_t *sr, int blocks) {
    const char *w = (const char *) wr + PREFETCH_ROWS * rowBytes;
    for (size_t o = 0; o < rowBytes; o += 64) {
        _mm_prefetch(w + o, _MM_HINT_T0);
    }
    _mm_prefetch((const char *) (sr + (size_t) PREFETCH_ROWS * blocks), _MM_HINT_T0);
}

/* The 16 bytes of a Q4_0 block's nibbles as 32 unsigned bytes in element order (low nibbles, then high ones). */
static inline T_AVX2 __m256i nibbles(const uint8_t *p) {
    __m128i b = _mm_loadu_si128((const __m128i *) p);
    __m256i v = _mm256_insertf128_si256(_mm256_castsi128_si256(b), _mm_srli_epi16(b, 4), 1);
    return _mm256_and_si256(v, _mm256_set1_epi8(0x0F));
}

/* 8 int32 lane sums of u[i] * s[i] (u unsigned, s signed bytes). */
static inline T_AVX2 __m256i dot_avx2(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

#ifdef AMULET_AVXVNNI
static inline T_AVXVNNI __m256i dot_avxvnni(__m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s);
}
#endif

static inline T_AVX512 __m256i dot_avx512_256(__m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

/* One body per 256-bit variant: DOT is the byte dot product, T the target attribute. */
#define Q80_256(NAME, T, DOT)                                                                                         \
    static T void NAME(const uint8_t *w, const uint16_t *sc, int rows, int blocks, const int8_t *xq,                  \
                       const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride, int add) {      \
        (void) xs;                                                                                                    \
        const int8_t *x1 = xq + (size_t) colBlocks * QK;                                                              \
        const float *d1 = xd + colBlocks;                                                                             \
        for (int r = 0; r < rows; r++) {                                                                              \
            const uint8_t *wr = w + (size_t) r * blocks * QK;                                                         \
            const uint16_t *sr = sc + (size_t) r * blocks;                                                            \
            prefetch_row(wr, (size_t) blocks * QK, sr, blocks);                                                       \
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();                                                \
            if (n == 2) {                                                                                             \
                for (int k = 0; k < blocks; k++) {                                                                    \
                    __m256i v = _mm256_loadu_si256((const __m256i *) (wr + k * QK));                                  \
                    __m256i av = _mm256_sign_epi8(v, v);                                                              \
                    __m256i s0 = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *) (xq + k * QK)), v);            \
                    __m256i s1 = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *) (x1 + k * QK)), v);            \
                    float dw = _cvtsh_ss(sr[k]);                                                                      \
                    a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(DOT(av, s0)), _mm256_set1_ps(dw * xd[k]), a0);            \
                    a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(DOT(av, s1)), _mm256_set1_ps(dw * d1[k]), a1);            \
                }                                                                                                     \
                store(y, yStride, r, 1, hsum256(a1), add);                                                            \
            } else {                                                                                                  \
                for (int k = 0; k < blocks; k++) {                                                                    \
                    __m256i v = _mm256_loadu_si256((const __m256i *) (wr + k * QK));                                  \
                    __m256i s0 = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *) (xq + k * QK)), v);            \
                    float dw = _cvtsh_ss(sr[k]);                                                                      \
                    a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(DOT(_mm256_sign_epi8(v, v), s0)),                         \
                                         _mm256_set1_ps(dw * xd[k]), a0);                                             \
                }                                                                                                     \
            }                                                                                                         \
            store(y, yStride, r, 0, hsum256(a0), add);                                                                \
        }                                                                                                             \
    }

#define Q40_256(NAME, T, DOT)                                                                                         \
    static T void NAME(const uint8_t *w, const uint16_t *sc, int rows, int blocks, const int8_t *xq,                  \
                       const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride, int add) {      \
        const int8_t *x1 = xq + (size_t) colBlocks * QK;                                                              \
        const float *d1 = xd + colBlocks;                                                                             \
        const float *s1 = xs + colBlocks;                                                                             \
        for (int r = 0; r < rows; r++) {                                                                              \
            const uint8_t *wr = w + (size_t) r * blocks * (QK / 2);                                                   \
            const uint16_t *sr = sc + (size_t) r * blocks;                                                            \
            prefetch_row(wr, (size_t) blocks * (QK / 2), sr, blocks);                                                 \
            __m256 a0 = _mm256_setzero_ps(), a1 = _mm256_setzero_ps();                                                \
            float c0 = 0, c1 = 0;                                                                                     \
            if (n == 2) {                                                                                             \
                for (int k = 0; k < blocks; k++) {                                                                    \
                    __m256i v = nibbles(wr + k * (QK / 2));                                                           \
                    float dw = _cvtsh_ss(sr[k]);                                                                      \
                    __m256i p0 = DOT(v, _mm256_loadu_si256((const __m256i *) (xq + k * QK)));                         \
                    __m256i p1 = DOT(v, _mm256_loadu_si256((const __m256i *) (x1 + k * QK)));                         \
                    a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(dw * xd[k]), a0);                     \
                    a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p1), _mm256_set1_ps(dw * d1[k]), a1);                     \
                    c0 += dw * xs[k];                                                                                 \
                    c1 += dw * s1[k];                                                                                 \
                }                                                                                                     \
                store(y, yStride, r, 1, hsum256(a1) - 8 * c1, add);                                                   \
            } else {                                                                                                  \
                for (int k = 0; k < blocks; k++) {                                                                    \
                    __m256i v = nibbles(wr + k * (QK / 2));                                                           \
                    float dw = _cvtsh_ss(sr[k]);                                                                      \
                    __m256i p0 = DOT(v, _mm256_loadu_si256((const __m256i *) (xq + k * QK)));                         \
                    a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(p0), _mm256_set1_ps(dw * xd[k]), a0);                     \
                    c0 += dw * xs[k];                                                                                 \
                }                                                                                                     \
            }                                                                                                         \
            store(y, yStride, r, 0, hsum256(a0) - 8 * c0, add);                                                       \
        }                                                                                                             \
    }

Q80_256(q80_avx2, T_AVX2, dot_avx2)
Q40_256(q40_avx2, T_AVX2, dot_avx2)
#ifdef AMULET_AVXVNNI
Q80_256(q80_avxvnni, T_AVXVNNI, dot_avxvnni)
Q40_256(q40_avxvnni, T_AVXVNNI, dot_avxvnni)
#endif

static T_AVX2 void quantize_avx2(const float *x, int values, int8_t *q, float *d, float *s) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    for (int k = 0; k < values / QK; k++) {
        const float *v = x + (size_t) k * QK;
        __m256 v0 = _mm256_loadu_ps(v), v1 = _mm256_loadu_ps(v + 8), v2 = _mm256_loadu_ps(v + 16),
               v3 = _mm256_loadu_ps(v + 24);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_andnot_ps(signBit, v0), _mm256_andnot_ps(signBit, v1)),
                                 _mm256_max_ps(_mm256_andnot_ps(signBit, v2), _mm256_andnot_ps(signBit, v3)));
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        float amax = _mm_cvtss_f32(h);
        float dk = amax / 127.0f;
        float id = dk != 0 ? 1.0f / dk : 0.0f;
        __m256 mul = _mm256_set1_ps(id);
        __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v0, mul), AMULET_ROUND_NEAREST));
        __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v1, mul), AMULET_ROUND_NEAREST));
        __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v2, mul), AMULET_ROUND_NEAREST));
        __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v3, mul), AMULET_ROUND_NEAREST));
        __m256i sum = _mm256_add_epi32(_mm256_add_epi32(i0, i1), _mm256_add_epi32(i2, i3));
        __m128i s4 = _mm_add_epi32(_mm256_castsi256_si128(sum), _mm256_extracti128_si256(sum, 1));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0x4E));
        s4 = _mm_add_epi32(s4, _mm_shuffle_epi32(s4, 0xB1));
        /* pack to bytes; packs works within 128-bit lanes, the permute puts the eight int32 quads back in order */
        __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
        p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        _mm256_storeu_si256((__m256i *) (q + (size_t) k * QK), p);
        d[k] = dk;
        s[k] = dk * (float) _mm_cvtsi128_si32(s4);
    }
}

/* ---------------------------------------------------------------- AVX-512 VNNI: two blocks a 512-bit vpdpbusd */

/* |w| as unsigned bytes and x with w's sign, for 64 bytes. */
static inline T_AVX512 __m512i signed_by(__m512i x, __mmask64 neg) {
    return _mm512_mask_sub_epi8(x, neg, _mm512_setzero_si512(), x);
}

/*
 * Two Q4_0 blocks' 32 bytes of nibbles as 64 unsigned bytes in element order: one broadcast load gives the 16-byte
 * halves [b0 b1 b0 b1] (b0 block k's bytes, b1 block k+1's), one 128-bit-lane shuffle [b0 b0 b1 b1], the second and
 * fourth lanes shifted right by 4 (the high nibbles: elements 16..31), and all masked to 4 bits. Three operations
 * beside the load, where an and/shift/and/insert/shuffle took five.
 */
static inline T_AVX512 __m512i nibbles2(const uint8_t *p) {
    __m512i z = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) p));
    z = _mm512_shuffle_i64x2(z, z, _MM_SHUFFLE(1, 1, 0, 0));
    z = _mm512_mask_srli_epi16(z, (__mmask32) 0xFF00FF00u, z, 4);
    return _mm512_and_si512(z, _mm512_set1_epi8(0x0F));
}

/*
 * One row of either format against one or two columns (TWO, a constant after inlining): blocks in chunks of 16,
 * whose weight scales are widened at once (vcvtph2ps) and multiplied by the activation scales in one vector; each
 * pair of blocks is one 512-bit vpdpbusd per column, its two scales moved into the halves of a vector with vpermps.
 * The last chunk loads its scales masked (nothing read past the row); an odd last block takes the 256-bit path.
 */
static inline __attribute__((always_inline)) T_AVX512 void row_avx512(
        int q4, int two, const uint8_t *wr, const uint16_t *sr, int blocks, const int8_t *x0, const int8_t *x1,
        const float *d0, const float *d1, const float *b0, const float *b1, float *out0, float *out1) {
    const __m512i zero = _mm512_setzero_si512();
    const __m512i first = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i step = _mm512_set1_epi32(2);
    const int qb = q4 ? QK / 2 : QK;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    __m512 c0 = _mm512_setzero_ps(), c1 = _mm512_setzero_ps();
    float t0 = 0, t1 = 0;
    for (int k = 0; k < blocks; k += 16) {
        int m = blocks - k < 16 ? blocks - k : 16;
        __mmask16 mk = (__mmask16) ((1u << m) - 1);
        __m512 dw = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, sr + k));
        __m512 s0 = _mm512_mul_ps(dw, _mm512_maskz_loadu_ps(mk, d0 + k));
        __m512 s1 = two ? _mm512_mul_ps(dw, _mm512_maskz_loadu_ps(mk, d1 + k)) : s0;
        if (q4) {
            c0 = _mm512_fmadd_ps(dw, _mm512_maskz_loadu_ps(mk, b0 + k), c0);
            if (two) {
                c1 = _mm512_fmadd_ps(dw, _mm512_maskz_loadu_ps(mk, b1 + k), c1);
            }
        }
        __m512i idx = first;
        int j = 0;
        for (; j + 2 <= m; j += 2) {
            const uint8_t *w = wr + (size_t) (k + j) * qb;
            const int8_t *xa = x0 + (size_t) (k + j) * QK;
            if (q4) {
                __m512i v = nibbles2(w);
                a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, v, _mm512_loadu_si512(xa))),
                                     _mm512_permutexvar_ps(idx, s0), a0);
                if (two) {
                    const int8_t *xb = x1 + (size_t) (k + j) * QK;
                    a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, v, _mm512_loadu_si512(xb))),
                                         _mm512_permutexvar_ps(idx, s1), a1);
                }
            } else {
                __m512i v = _mm512_loadu_si512(w);
                __mmask64 neg = _mm512_movepi8_mask(v);
                __m512i av = _mm512_abs_epi8(v);
                a0 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, av,
                                             signed_by(_mm512_loadu_si512(xa), neg))),
                                     _mm512_permutexvar_ps(idx, s0), a0);
                if (two) {
                    const int8_t *xb = x1 + (size_t) (k + j) * QK;
                    a1 = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_dpbusd_epi32(zero, av,
                                                 signed_by(_mm512_loadu_si512(xb), neg))),
                                         _mm512_permutexvar_ps(idx, s1), a1);
                }
            }
            idx = _mm512_add_epi32(idx, step);
        }
        if (j < m) {
            /* an odd last block */
            float sc0[16], sc1[16];
            _mm512_storeu_ps(sc0, s0);
            _mm512_storeu_ps(sc1, s1);
            const uint8_t *w = wr + (size_t) (k + j) * qb;
            __m256i v = q4 ? nibbles(w) : _mm256_loadu_si256((const __m256i *) w);
            __m256i u = q4 ? v : _mm256_sign_epi8(v, v);
            __m256i xa = _mm256_loadu_si256((const __m256i *) (x0 + (size_t) (k + j) * QK));
            t0 += hsum256(_mm256_cvtepi32_ps(dot_avx512_256(u, q4 ? xa : _mm256_sign_epi8(xa, v)))) * sc0[j];
            if (two) {
                __m256i xb = _mm256_loadu_si256((const __m256i *) (x1 + (size_t) (k + j) * QK));
                t1 += hsum256(_mm256_cvtepi32_ps(dot_avx512_256(u, q4 ? xb : _mm256_sign_epi8(xb, v)))) * sc1[j];
            }
        }
    }
    *out0 = _mm512_reduce_add_ps(a0) + t0 - (q4 ? 8 * _mm512_reduce_add_ps(c0) : 0.0f);
    if (two) {
        *out1 = _mm512_reduce_add_ps(a1) + t1 - (q4 ? 8 * _mm512_reduce_add_ps(c1) : 0.0f);
    }
}

static T_AVX512 void q80_avx512vnni(const uint8_t *w, const uint16_t *sc, int rows, int blocks, const int8_t *xq,
                                    const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride,
                                    int add) {
    (void) xs;
    const int8_t *x1 = xq + (size_t) colBlocks * QK;
    const float *d1 = xd + colBlocks;
    for (int r = 0; r < rows; r++) {
        const uint8_t *wr = w + (size_t) r * blocks * QK;
        const uint16_t *sr = sc + (size_t) r * blocks;
        prefetch_row(wr, (size_t) blocks * QK, sr, blocks);
        float s0, s1;
        if (n == 2) {
            row_avx512(0, 1, wr, sr, blocks, xq, x1, xd, d1, NULL, NULL, &s0, &s1);
            store(y, yStride, r, 1, s1, add);
        } else {
            row_avx512(0, 0, wr, sr, blocks, xq, NULL, xd, NULL, NULL, NULL, &s0, NULL);
        }
        store(y, yStride, r, 0, s0, add);
    }
}

static T_AVX512 void q40_avx512vnni(const uint8_t *w, const uint16_t *sc, int rows, int blocks, const int8_t *xq,
                                    const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride,
                                    int add) {
    const int8_t *x1 = xq + (size_t) colBlocks * QK;
    const float *d1 = xd + colBlocks;
    const float *b1 = xs + colBlocks;
    for (int r = 0; r < rows; r++) {
        const uint8_t *wr = w + (size_t) r * blocks * (QK / 2);
        const uint16_t *sr = sc + (size_t) r * blocks;
        prefetch_row(wr, (size_t) blocks * (QK / 2), sr, blocks);
        float s0, s1;
        if (n == 2) {
            row_avx512(1, 1, wr, sr, blocks, xq, x1, xd, d1, xs, b1, &s0, &s1);
            store(y, yStride, r, 1, s1, add);
        } else {
            row_avx512(1, 0, wr, sr, blocks, xq, NULL, xd, NULL, xs, NULL, &s0, NULL);
        }
        store(y, yStride, r, 0, s0, add);
    }
}

/*
 * Many columns: a tile of R rows x C columns (constants after inlining) reads each weight pair of blocks once for C
 * columns and each activation pair once for R rows. Every (row, column) gets exactly row_avx512's arithmetic for that
 * row and that column alone, so a column's result never depends on the columns beside it:
 *  - the same int32 lanes: Q4_0 as there (unsigned nibbles times signed activations); Q8_0 as vpdpbusd of the
 *    activations plus 128 (unsigned) with the signed weights, started from -128 x the lane's weight sum: the same
 *    exact integer as |w| times x with w's sign;
 *  - the same float32 steps in the same order: the lane scale dw x dx (a product of two permuted vectors is the
 *    permutation of the product), one fma a pair of blocks into one accumulator, the odd last block and Q4_0's block
 *    sums apart, the same final reduction.
 */
static inline __attribute__((always_inline)) T_AVX512 void tile_avx512(
        int q4, int R, int C, const uint8_t *w, const uint16_t *sc, int blocks, const int8_t *xq, const float *xd,
        const float *xs, int colBlocks, float *y, int yStride, int add) {
    const int qb = q4 ? QK / 2 : QK;
    const size_t rowBytes = (size_t) blocks * qb;
    const __m512i zero = _mm512_setzero_si512();
    const __m512i bias = _mm512_set1_epi8((char) 0x80);
    const __m512i first = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
    const __m512i step = _mm512_set1_epi32(2);
    __m512 acc[4][4];
    __m512 dw[4], dx[4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            acc[r][c] = _mm512_setzero_ps();
        }
    }
    const int pairs = blocks & ~1;
    for (int k0 = 0; k0 < pairs; k0 += 16) {
        int m = blocks - k0 < 16 ? blocks - k0 : 16;
        __mmask16 mk = (__mmask16) ((1u << m) - 1);
#pragma GCC unroll 4
        for (int r = 0; r < R; r++) {
            dw[r] = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, sc + (size_t) r * blocks + k0));
        }
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            dx[c] = _mm512_maskz_loadu_ps(mk, xd + (size_t) c * colBlocks + k0);
        }
        __m512i idx = first;
        int end = pairs - k0 < 16 ? pairs : k0 + 16;
        for (int k = k0; k < end; k += 2) {
            __m512i wv[4], init[4];
            __m512 pw[4];
#pragma GCC unroll 4
            for (int r = 0; r < R; r++) {
                const uint8_t *p = w + r * rowBytes + (size_t) k * qb;
                if (q4) {
                    wv[r] = nibbles2(p);
                } else {
                    wv[r] = _mm512_loadu_si512(p);
                    init[r] = _mm512_sub_epi32(zero, _mm512_dpbusd_epi32(zero, bias, wv[r]));
                }
                pw[r] = _mm512_permutexvar_ps(idx, dw[r]);
            }
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                __m512i xv = _mm512_loadu_si512(xq + ((size_t) c * colBlocks + k) * QK);
                if (!q4) {
                    xv = _mm512_xor_si512(xv, bias);
                }
                __m512 px = _mm512_permutexvar_ps(idx, dx[c]);
#pragma GCC unroll 4
                for (int r = 0; r < R; r++) {
                    __m512i dot = q4 ? _mm512_dpbusd_epi32(zero, wv[r], xv)
                                     : _mm512_dpbusd_epi32(init[r], xv, wv[r]);
                    acc[r][c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(dot), _mm512_mul_ps(pw[r], px), acc[r][c]);
                }
            }
            idx = _mm512_add_epi32(idx, step);
        }
    }
    /* the accumulators reduced (unrolled: they stay in registers), then the odd last block, the Q4_0 block sums
       and the final sum, (row, column) by (row, column) as row_avx512 */
    float sums[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < R; r++) {
#pragma GCC unroll 4
        for (int c = 0; c < C; c++) {
            sums[r][c] = _mm512_reduce_add_ps(acc[r][c]);
        }
    }
    /* Q8_0 rows of an even number of blocks have neither: their sums are final (t = 0 as in row_avx512) */
    const int tail = q4 || (blocks & 1);
    for (int r = 0; r < R; r++) {
        if (!tail) {
#pragma GCC unroll 4
            for (int c = 0; c < C; c++) {
                store(y, yStride, r, c, sums[r][c] + 0.0f - 0.0f, add);
            }
            continue;
        }
        const uint8_t *wr = w + r * rowBytes;
        const uint16_t *sr = sc + (size_t) r * blocks;
        for (int c = 0; c < C; c++) {
            const int8_t *xc = xq + (size_t) c * colBlocks * QK;
            const float *dc = xd + (size_t) c * colBlocks;
            float t = 0;
            __m512 corr = _mm512_setzero_ps();
            for (int k = 0; k < blocks; k += 16) {
                int m = blocks - k < 16 ? blocks - k : 16;
                __mmask16 mk = (__mmask16) ((1u << m) - 1);
                __m512 d = _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(mk, sr + k));
                if (q4) {
                    corr = _mm512_fmadd_ps(d, _mm512_maskz_loadu_ps(mk, xs + (size_t) c * colBlocks + k), corr);
                }
                if (m & 1) {
                    float s[16];
                    _mm512_storeu_ps(s, _mm512_mul_ps(d, _mm512_maskz_loadu_ps(mk, dc + k)));
                    int j = m - 1;
                    const uint8_t *wb = wr + (size_t) (k + j) * qb;
                    __m256i v = q4 ? nibbles(wb) : _mm256_loadu_si256((const __m256i *) wb);
                    __m256i u = q4 ? v : _mm256_sign_epi8(v, v);
                    __m256i xa = _mm256_loadu_si256((const __m256i *) (xc + (size_t) (k + j) * QK));
                    t += hsum256(_mm256_cvtepi32_ps(dot_avx512_256(u, q4 ? xa : _mm256_sign_epi8(xa, v)))) * s[j];
                }
            }
            float out = sums[r][c] + t - (q4 ? 8 * _mm512_reduce_add_ps(corr) : 0.0f);
            store(y, yStride, r, c, out, add);
        }
    }
}


/*
 * n columns of either format in tiles of 4 rows x 4 columns; the rows and columns left over go to the one- and
 * two-column kernel (the same arithmetic per column). Each group of 4 rows first asks the cache for the 4 rows
 * PREFETCH_ROWS on, as the row kernel does: without it a tile waited for memory at each row's first loads (a row of
 * 896 Q8_0 weights is 14 cache lines, too short for the hardware prefetchers), and one thread multiplied the 151,936 x
 * 896 head by 8 columns in 30.2 ms, with it in 22.2-23.0 ms (issue 26, serving).
 */
#define MANY_AVX512(NAME, Q4, ONE)                                                                                    \
    static T_AVX512 void NAME(const uint8_t *w, const uint16_t *sc, int rows, int blocks, const int8_t *xq,           \
                              const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride,          \
                              int add) {                                                                              \
        const size_t rowBytes = (size_t) blocks * (Q4 ? QK / 2 : QK);                                                 \
        for (int r0 = 0; r0 < rows; r0 += MANY_ROWS) {                                                                \
            int r1 = rows - r0 < MANY_ROWS ? rows : r0 + MANY_ROWS;                                                   \
            for (int c0 = 0; c0 < n; c0 += MANY_COLS) {                                                               \
                int c1 = n - c0 < MANY_COLS ? n : c0 + MANY_COLS;                                                     \
                int r = r0;                                                                                           \
                for (; r + 4 <= r1; r += 4) {                                                                         \
                    if (c0 == 0) {                                                                                    \
                        for (int p = 0; p < 4; p++) {                                                                 \
                            prefetch_row(w + (size_t) (r + p) * rowBytes, rowBytes, sc + (size_t) (r + p) * blocks,   \
                                         blocks);                                                                     \
                        }                                                                                             \
                    }                                                                                                 \
                    int c = c0;                                                                                       \
                    for (; c + 4 <= c1; c += 4) {                                                                     \
                        tile_avx512(Q4, 4, 4, w + r * rowBytes, sc + (size_t) r * blocks, blocks,                     \
                                    xq + (size_t) c * colBlocks * QK, xd + (size_t) c * colBlocks,                    \
                                    xs + (size_t) c * colBlocks, colBlocks, y + (size_t) c * yStride + r, yStride,    \
                                    add);                                                                             \
                    }                                                                                                 \
                    for (; c < c1; c += 2) {                                                                          \
                        ONE(w + r * rowBytes, sc + (size_t) r * blocks, 4, blocks, xq + (size_t) c * colBlocks * QK,  \
                            xd + (size_t) c * colBlocks, xs + (size_t) c * colBlocks, colBlocks,                      \
                            c1 - c < 2 ? 1 : 2, y + (size_t) c * yStride + r, yStride, add);                          \
                    }                                                                                                 \
                }                                                                                                     \
                for (int c = c0; r < r1 && c < c1; c += 2) {                                                          \
                    ONE(w + r * rowBytes, sc + (size_t) r * blocks, r1 - r, blocks, xq + (size_t) c * colBlocks * QK, \
                        xd + (size_t) c * colBlocks, xs + (size_t) c * colBlocks, colBlocks, c1 - c < 2 ? 1 : 2,      \
                        y + (size_t) c * yStride + r, yStride, add);                                                  \
                }                                                                                                     \
            }                                                                                                         \
        }                                                                                                             \
    }

MANY_AVX512(q80_many_avx512, 0, q80_avx512vnni)
MANY_AVX512(q40_many_avx512, 1, q40_avx512vnni)
#endif /* AMULET_X86 */

#ifdef AMULET_ARM
/* ---------------------------------------------------------------- aarch64 NEON, with and without sdot */

/*
 * The AVX2 variant's arithmetic, step for step, so that the bits are AVX2's: per block, 8 int32 lanes, lane i the
 * exact sum of the products of elements 4i..4i+3 (Q4_0: low nibbles are elements 0..15, high ones 16..31); each lane
 * converted to float32 and fused-multiply-added (vfmaq_f32, one rounding as vfmadd) with the block's scale product
 * into 8 lane accumulators (two float32x4); at the end the AVX2 reduction: lanes i and i + 4 added, then (0 + 2) +
 * (1 + 3). Q4_0's correction is the same plain float chain.
 */

/* (dot16_neon, dot16_dotprod and hsum8_neon: amulet_q8q4.h, shared with amulet_q50.c) */

/* Rows ahead asked for, as on x86 (prefetch_row): a hint, dropped past the slab's end. */
static inline void prefetch_row_neon(const uint8_t *wr, size_t rowBytes, const uint16_t *sr, int blocks) {
    const uint8_t *w = wr + 8 * rowBytes;
    for (size_t o = 0; o < rowBytes; o += 64) {
        __builtin_prefetch(w + o);
    }
    __builtin_prefetch(sr + (size_t) 8 * blocks);
}

/* One block's weights as two int8x16 in element order (W0 elements 0..15, W1 16..31). */
#define Q80_LOAD(p, W0, W1)                                                                                           \
    int8x16_t W0 = vld1q_s8((const int8_t *) (p)), W1 = vld1q_s8((const int8_t *) (p) + 16)
#define Q40_LOAD(p, W0, W1)                                                                                           \
    uint8x16_t W0##b = vld1q_u8(p);                                                                                   \
    int8x16_t W0 = vreinterpretq_s8_u8(vandq_u8(W0##b, vdupq_n_u8(0x0F)));                                           \
    int8x16_t W1 = vreinterpretq_s8_u8(vshrq_n_u8(W0##b, 4))

/* One body per NEON variant and format: Q4 (0/1) the format, LOAD its block load, DOT the 16-byte dot, T the target. */
#define QK_NEON(NAME, T, Q4, LOAD, DOT)                                                                               \
    static T void NAME(const uint8_t *w, const uint16_t *sc, int rows, int blocks, const int8_t *xq,                  \
                       const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride, int add) {      \
        const size_t qb = Q4 ? QK / 2 : QK;                                                                           \
        const int8_t *x1 = xq + (size_t) colBlocks * QK;                                                              \
        const float *d1 = xd + colBlocks;                                                                             \
        const float *s1 = xs + colBlocks;                                                                             \
        for (int r = 0; r < rows; r++) {                                                                              \
            const uint8_t *wr = w + (size_t) r * blocks * qb;                                                         \
            const uint16_t *sr = sc + (size_t) r * blocks;                                                            \
            prefetch_row_neon(wr, (size_t) blocks * qb, sr, blocks);                                                  \
            float32x4_t a0 = vdupq_n_f32(0), a0h = a0, a1 = a0, a1h = a0;                                             \
            float c0 = 0, c1 = 0;                                                                                     \
            if (n == 2) {                                                                                             \
                for (int k = 0; k < blocks; k++) {                                                                    \
                    LOAD(wr + k * qb, v0, v1);                                                                        \
                    float dw = half_to_float(sr[k]);                                                                  \
                    const int8_t *xa = xq + (size_t) k * QK, *xb = x1 + (size_t) k * QK;                              \
                    float32x4_t f0 = vdupq_n_f32(dw * xd[k]), f1 = vdupq_n_f32(dw * d1[k]);                           \
                    a0 = vfmaq_f32(a0, vcvtq_f32_s32(DOT(v0, vld1q_s8(xa))), f0);                                     \
                    a0h = vfmaq_f32(a0h, vcvtq_f32_s32(DOT(v1, vld1q_s8(xa + 16))), f0);                              \
                    a1 = vfmaq_f32(a1, vcvtq_f32_s32(DOT(v0, vld1q_s8(xb))), f1);                                     \
                    a1h = vfmaq_f32(a1h, vcvtq_f32_s32(DOT(v1, vld1q_s8(xb + 16))), f1);                              \
                    if (Q4) {                                                                                         \
                        c0 += dw * xs[k];                                                                             \
                        c1 += dw * s1[k];                                                                             \
                    }                                                                                                 \
                }                                                                                                     \
                store(y, yStride, r, 1, Q4 ? hsum8_neon(a1, a1h) - 8 * c1 : hsum8_neon(a1, a1h), add);                \
            } else {                                                                                                  \
                for (int k = 0; k < blocks; k++) {                                                                    \
                    LOAD(wr + k * qb, v0, v1);                                                                        \
                    float dw = half_to_float(sr[k]);                                                                  \
                    const int8_t *xa = xq + (size_t) k * QK;                                                          \
                    float32x4_t f0 = vdupq_n_f32(dw * xd[k]);                                                         \
                    a0 = vfmaq_f32(a0, vcvtq_f32_s32(DOT(v0, vld1q_s8(xa))), f0);                                     \
                    a0h = vfmaq_f32(a0h, vcvtq_f32_s32(DOT(v1, vld1q_s8(xa + 16))), f0);                              \
                    if (Q4) {                                                                                         \
                        c0 += dw * xs[k];                                                                             \
                    }                                                                                                 \
                }                                                                                                     \
            }                                                                                                         \
            store(y, yStride, r, 0, Q4 ? hsum8_neon(a0, a0h) - 8 * c0 : hsum8_neon(a0, a0h), add);                    \
        }                                                                                                             \
    }

QK_NEON(q80_neon, , 0, Q80_LOAD, dot16_neon)
QK_NEON(q40_neon, , 1, Q40_LOAD, dot16_neon)
#ifdef AMULET_DOTPROD
QK_NEON(q80_dotprod, T_DOTPROD, 0, Q80_LOAD, dot16_dotprod)
QK_NEON(q40_dotprod, T_DOTPROD, 1, Q40_LOAD, dot16_dotprod)
#endif

/* quantize_scalar's arithmetic on 4 lanes: the same amax, the same products, rounded to nearest even (vcvtnq). */
static void quantize_neon(const float *x, int values, int8_t *q, float *d, float *s) {
    for (int k = 0; k < values / QK; k++) {
        const float *v = x + (size_t) k * QK;
        float32x4_t f[8];
        float32x4_t m = vdupq_n_f32(0);
        for (int j = 0; j < 8; j++) {
            f[j] = vld1q_f32(v + 4 * j);
            m = vmaxq_f32(m, vabsq_f32(f[j]));
        }
        float amax = vmaxvq_f32(m);
        float dk = amax / 127.0f;
        float id = dk != 0 ? 1.0f / dk : 0.0f;
        int32x4_t sum = vdupq_n_s32(0);
        int16x8_t h[4];
        for (int j = 0; j < 4; j++) {
            int32x4_t i0 = vcvtnq_s32_f32(vmulq_n_f32(f[2 * j], id));
            int32x4_t i1 = vcvtnq_s32_f32(vmulq_n_f32(f[2 * j + 1], id));
            sum = vaddq_s32(sum, vaddq_s32(i0, i1));
            h[j] = vcombine_s16(vqmovn_s32(i0), vqmovn_s32(i1));
        }
        vst1q_s8(q + (size_t) k * QK, vcombine_s8(vqmovn_s16(h[0]), vqmovn_s16(h[1])));
        vst1q_s8(q + (size_t) k * QK + 16, vcombine_s8(vqmovn_s16(h[2]), vqmovn_s16(h[3])));
        d[k] = dk;
        s[k] = dk * (float) vaddvq_s32(sum);
    }
}
#endif /* AMULET_ARM */

/* ---------------------------------------------------------------- dispatch */

static int best(int mask) {
    for (int v = V_COUNT - 1; v > 0; v--) {
        if (mask & (1 << v)) {
            return v;
        }
    }
    return V_SCALAR;
}

static int supported = -1;
static int current = V_SCALAR;

static void init(void) {
    if (supported < 0) {
        supported = amulet_i8_supported();
        current = best(supported);
    }
}

/* The variant in use, for the interleaved Q4_0 kernels of amulet_q4x8.c (they follow this family's selection). */
int amulet_q8q4_variant(void) {
    init();
    return current;
}

static kernel_fn kernel(int v, int q4) {
    switch (v) {
#ifdef AMULET_X86
        case V_AVX2: return q4 ? q40_avx2 : q80_avx2;
#ifdef AMULET_AVXVNNI
        case V_AVXVNNI: return q4 ? q40_avxvnni : q80_avxvnni;
#endif
        case V_AVX512VNNI: return q4 ? q40_avx512vnni : q80_avx512vnni;
#endif
#ifdef AMULET_ARM
        case V_NEON: return q4 ? q40_neon : q80_neon;
#ifdef AMULET_DOTPROD
        case V_NEON_DOTPROD: return q4 ? q40_dotprod : q80_dotprod;
#endif
#endif
        default: return q4 ? q40_scalar : q80_scalar;
    }
}

/*
 * Any number of columns: one or two straight to the kernel; more in pairs over blocks of MANY_ROWS rows that stay in
 * the cache, or from TILE_MIN_COLS columns on the AVX-512 VNNI tiles. Each column's result is the one it gets alone (every kernel computes a
 * column with the same arithmetic whatever its neighbours).
 */
static void product_any(int v, int q4, const uint8_t *w, const uint16_t *sc, int rows, int blocks, const int8_t *xq,
                        const float *xd, const float *xs, int colBlocks, int n, float *y, int yStride, int add) {
    if (n <= 2) {
        kernel(v, q4)(w, sc, rows, blocks, xq, xd, xs, colBlocks, n, y, yStride, add);
        return;
    }
#ifdef AMULET_X86
    if (v == V_AVX512VNNI && n >= TILE_MIN_COLS) {
        (q4 ? q40_many_avx512 : q80_many_avx512)(w, sc, rows, blocks, xq, xd, xs, colBlocks, n, y, yStride, add);
        return;
    }
#endif
    const size_t rowBytes = (size_t) blocks * (q4 ? QK / 2 : QK);
    kernel_fn f = kernel(v, q4);
    for (int r = 0; r < rows; r += MANY_ROWS) {
        int count = rows - r < MANY_ROWS ? rows - r : MANY_ROWS;
        for (int c = 0; c < n; c += 2) {
            f(w + r * rowBytes, sc + (size_t) r * blocks, count, blocks, xq + (size_t) c * colBlocks * QK,
              xd + (size_t) c * colBlocks, xs + (size_t) c * colBlocks, colBlocks, n - c < 2 ? 1 : 2,
              y + (size_t) c * yStride + r, yStride, add);
        }
    }
}

/* ---------------------------------------------------------------- JNI: io.github.amulet4j.transformer.weights.NativeKernels */

#define JNI_FN(name) Java_io_github_amulet4j_transformer_weights_NativeKernels_##name

JNIEXPORT jint JNICALL JNI_FN(supportedVariants)(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    init();
    return supported;
}

JNIEXPORT jint JNICALL JNI_FN(variant)(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    init();
    return current;
}

/* Selects variant v when this CPU supports it; returns the variant in use afterwards. */
JNIEXPORT jint JNICALL JNI_FN(selectVariant)(JNIEnv *env, jclass cls, jint v) {
    (void) env; (void) cls;
    init();
    if (v >= 0 && v < V_COUNT && (supported & (1 << v))) {
        current = v;
    }
    return current;
}

JNIEXPORT jstring JNICALL JNI_FN(variantName)(JNIEnv *env, jclass cls, jint v) {
    (void) cls;
    return (*env)->NewStringUTF(env, amulet_i8_name(v));
}

/*
 * x[c * cols + i] for c < n quantized per block of 32 into q (bytes, same indices), d and s (one per block, column c's
 * from c * cols / 32): scales and scale * sum of quants.
 */
JNIEXPORT void JNICALL JNI_FN(quantize)(JNIEnv *env, jclass cls, jfloatArray x, jint values, jbyteArray q,
                                         jfloatArray d, jfloatArray s) {
    (void) cls;
    init();
    float *px = (*env)->GetPrimitiveArrayCritical(env, x, NULL);
    int8_t *pq = (*env)->GetPrimitiveArrayCritical(env, q, NULL);
    float *pd = (*env)->GetPrimitiveArrayCritical(env, d, NULL);
    float *ps = (*env)->GetPrimitiveArrayCritical(env, s, NULL);
    if (px && pq && pd && ps) {
#ifdef AMULET_X86
        if (supported & (1 << V_AVX2) && current != V_SCALAR) {
            quantize_avx2(px, values, pq, pd, ps);
        } else
#endif
#ifdef AMULET_ARM
        if (current != V_SCALAR) {
            quantize_neon(px, values, pq, pd, ps);
        } else
#endif
        quantize_scalar(px, values, pq, pd, ps);
    }
    if (ps) (*env)->ReleasePrimitiveArrayCritical(env, s, ps, 0);
    if (pd) (*env)->ReleasePrimitiveArrayCritical(env, d, pd, 0);
    if (pq) (*env)->ReleasePrimitiveArrayCritical(env, q, pq, 0);
    if (px) (*env)->ReleasePrimitiveArrayCritical(env, x, px, JNI_ABORT);
}

/*
 * Rows [0, rows) of a weight slab range times n (any number) quantized activation columns:
 * weights at w[wOff...] (a row's quants contiguous: blocks * 32 bytes for Q8_0, blocks * 16 for Q4_0), float16 scales
 * at sc[sOff...] (blocks a row); activations from block xBlock of each column, colBlocks blocks a column;
 * y[yOff + c * yStride + r] stored or (add) added to. The Java side checks every bound.
 */
JNIEXPORT void JNICALL JNI_FN(product)(JNIEnv *env, jclass cls, jboolean q4, jbyteArray w, jint wOff,
                                        jshortArray sc, jint sOff, jint rows, jint blocks, jbyteArray xq,
                                        jfloatArray xd, jfloatArray xs, jint xBlock, jint colBlocks, jint n,
                                        jfloatArray y, jint yOff, jint yStride, jboolean add) {
    (void) cls;
    init();
    uint8_t *pw = (*env)->GetPrimitiveArrayCritical(env, w, NULL);
    uint16_t *ps = (*env)->GetPrimitiveArrayCritical(env, sc, NULL);
    int8_t *pq = (*env)->GetPrimitiveArrayCritical(env, xq, NULL);
    float *pd = (*env)->GetPrimitiveArrayCritical(env, xd, NULL);
    float *pxs = (*env)->GetPrimitiveArrayCritical(env, xs, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (pw && ps && pq && pd && pxs && py) {
        product_any(current, q4 ? 1 : 0, pw + wOff, ps + sOff, rows, blocks, pq + (size_t) xBlock * QK, pd + xBlock,
                    pxs + xBlock, colBlocks, n, py + yOff, yStride, add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (pxs) (*env)->ReleasePrimitiveArrayCritical(env, xs, pxs, JNI_ABORT);
    if (pd) (*env)->ReleasePrimitiveArrayCritical(env, xd, pd, JNI_ABORT);
    if (pq) (*env)->ReleasePrimitiveArrayCritical(env, xq, pq, JNI_ABORT);
    if (ps) (*env)->ReleasePrimitiveArrayCritical(env, sc, ps, JNI_ABORT);
    if (pw) (*env)->ReleasePrimitiveArrayCritical(env, w, pw, JNI_ABORT);
}

/*
 * As product, on weights off the Java heap (WeightPanel's native slabs): w and sc are addresses (NativeSlab), the
 * activations and results are arrays as before.
 */
JNIEXPORT void JNICALL JNI_FN(productAt)(JNIEnv *env, jclass cls, jboolean q4, jlong w, jlong sc, jint rows,
                                          jint blocks, jbyteArray xq, jfloatArray xd, jfloatArray xs, jint xBlock,
                                          jint colBlocks, jint n, jfloatArray y, jint yOff, jint yStride,
                                          jboolean add) {
    (void) cls;
    init();
    int8_t *pq = (*env)->GetPrimitiveArrayCritical(env, xq, NULL);
    float *pd = (*env)->GetPrimitiveArrayCritical(env, xd, NULL);
    float *pxs = (*env)->GetPrimitiveArrayCritical(env, xs, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (pq && pd && pxs && py) {
        product_any(current, q4 ? 1 : 0, (const uint8_t *) (intptr_t) w, (const uint16_t *) (intptr_t) sc, rows,
                    blocks, pq + (size_t) xBlock * QK, pd + xBlock, pxs + xBlock, colBlocks, n, py + yOff, yStride,
                    add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (pxs) (*env)->ReleasePrimitiveArrayCritical(env, xs, pxs, JNI_ABORT);
    if (pd) (*env)->ReleasePrimitiveArrayCritical(env, xd, pd, JNI_ABORT);
    if (pq) (*env)->ReleasePrimitiveArrayCritical(env, xq, pq, JNI_ABORT);
}
