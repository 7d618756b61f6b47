/*
 * Amulet's native K-quant kernels (issue 26): Q4_K, Q5_K and Q6_K weights held in ggml's own blocks (block_q4_K,
 * block_q5_K, block_q6_K: 256 weights a block, rows of whole blocks, one after the other as a GGUF file has them)
 * times activations quantized per block of 256 to 8 bits with sums of every 16 quants (llama.cpp's Q8_K idea, with a
 * float32 scale), any number of columns in tiles of up to four (a weight block unpacked once for the whole tile).
 * Compiled into the same libamulet_kernels.so as amulet_kernels.c; bound to io.github.amulet4j.transformer.weights.KQuantKernels.
 *
 * C and intrinsics only; every variant has its own target attribute and is chosen at run time with
 * __builtin_cpu_supports (never -march=native). Variants, numbered as amulet_kernels.c numbers them: 0 scalar C,
 * 1 AVX2 (vpmaddubsw, then vpmaddwd with the sub-block scales), 2 AVX-VNNI (vpmaddubsw, then the scales through
 * vpdpwssd, 256-bit) and 3 AVX-512 VNNI (the same on 512-bit registers, two 32-weight pieces an instruction). On
 * aarch64: 0 scalar C, 1 NEON (smull + pairwise adds), 2 NEON dotprod (sdot, where AT_HWCAP has HWCAP_ASIMDDP):
 * each block's integer sums on vectors, the float32 steps the scalar variant's (q45k_block_scalar, q6k_block_scalar,
 * in the same order), so their results are the scalar variant's bits.
 *
 * Arithmetic, the same in every variant: per block, exact integer sums of weight quant x activation quant x sub-block
 * scale (int32), times the block scale d and the activation scale (float32); Q4_K/Q5_K subtract dmin times the
 * integer sum of sub-block minimum x activation quant sum (through the 16-quant sums); Q6_K's 6-bit quants are
 * multiplied unsigned (0..63) and 32 x scale x quant sum subtracted in the integers.
 */
#include <jni.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

/* the variants, the x86 and aarch64 detection, the sdot helpers and the compilers: shared with the Q8_0/Q4_0 kernels */
#include "amulet_q8q4.h"

#if defined(__x86_64__) || defined(_M_X64)
#define KQ_X86 1
#include <immintrin.h>
#ifdef AMULET_AVXVNNI
#define KQ_AVXVNNI 1
#endif
#endif

#if defined(__aarch64__)
#define KQ_ARM 1
#ifdef AMULET_DOTPROD
#define KQ_DOTPROD 1
#define KT_DOTPROD T_DOTPROD
#endif
#endif

#define QK_K 256

/* Columns a tile of the 256-bit kernels takes at once: each weight block is unpacked once for all of them. */
#define KQ_TILE 4

enum {
    KV_SCALAR = AMULET_I8_SCALAR, KV_AVX2 = AMULET_I8_AVX2, KV_AVXVNNI = AMULET_I8_AVXVNNI,
    KV_AVX512VNNI = AMULET_I8_AVX512VNNI, KV_COUNT = AMULET_I8_COUNT
};
#ifdef KQ_ARM
enum { KV_NEON = AMULET_I8_NEON, KV_NEON_DOTPROD = AMULET_I8_NEON_DOTPROD };
#endif

/* Formats, as KQuantKernels numbers them. */
enum { F_Q4K = 0, F_Q5K = 1, F_Q6K = 2 };
static const int BLOCK_BYTES[3] = {144, 176, 210};

/*
 * A row range times one or two activation columns: rows of `blocks` blocks from w; column c's quants at
 * xq + c * colBlocks * 256, scales xd + c * colBlocks, 16-quant sums xb + c * colBlocks * 16; y[c * yStride + r].
 */
typedef void (*kq_fn)(const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd, const int16_t *xb,
                      int colBlocks, int n, float *y, int yStride, int add);

static inline float kq_half(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    int32_t bits = (int32_t) ((uint32_t) h << 16);
    bits = (bits >> 3) & (int32_t) 0x8FFFE000;
    float f;
    memcpy(&f, &bits, 4);
    return f * 0x1p112f;
}

static inline void kq_store(float *y, int yStride, int r, int c, float s, int add) {
    float *p = y + (size_t) c * yStride + r;
    *p = add ? *p + s : s;
}

/*
 * The eight 6-bit scales (sc[0..7]) and minimums (sc[8..15]) of a Q4_K/Q5_K block's 12 scale bytes: bytes 0-3 hold
 * scales 0-3 (low 6 bits) and the top 2 bits of scales 4-7, bytes 4-7 the same for the minimums, bytes 8-11 the low
 * nibbles of scales 4-7 and (high nibbles) of minimums 4-7. Worked on four bytes at once.
 */
static inline void kq_scales(const uint8_t *s, uint8_t out[16]) {
    uint32_t a, b, c;
    memcpy(&a, s, 4);
    memcpy(&b, s + 4, 4);
    memcpy(&c, s + 8, 4);
    const uint32_t low6 = 0x3F3F3F3Fu, low4 = 0x0F0F0F0Fu, low2 = 0x03030303u;
    uint32_t v[4];
    v[0] = a & low6;
    v[1] = (c & low4) | (((a >> 6) & low2) << 4);
    v[2] = b & low6;
    v[3] = ((c >> 4) & low4) | (((b >> 6) & low2) << 4);
    memcpy(out, v, 16);
}

/* ---------------------------------------------------------------- scalar (any CPU) */

/* One block of Q4_K (five = 0) or Q5_K (five = 1) times one column's block: the float32 contribution. */
static float q45k_block_scalar(const uint8_t *b, int five, const int8_t *x, float dx, const int16_t *bs) {
    uint8_t sm[16];
    kq_scales(b + 4, sm);
    const uint8_t *qh = b + 16;
    const uint8_t *qs = b + (five ? 48 : 16);
    int32_t sum = 0, mins = 0;
    for (int c = 0; c < 4; c++) {
        int32_t lo = 0, hi = 0;
        for (int l = 0; l < 32; l++) {
            int q = qs[32 * c + l];
            int h0 = five ? ((qh[l] >> (2 * c)) & 1) << 4 : 0;
            int h1 = five ? ((qh[l] >> (2 * c + 1)) & 1) << 4 : 0;
            lo += ((q & 0x0F) | h0) * x[64 * c + l];
            hi += ((q >> 4) | h1) * x[64 * c + 32 + l];
        }
        sum += lo * sm[2 * c] + hi * sm[2 * c + 1];
    }
    for (int j = 0; j < 8; j++) {
        mins += sm[8 + j] * (bs[2 * j] + bs[2 * j + 1]);
    }
    return dx * (kq_half(b) * (float) sum - kq_half(b + 2) * (float) mins);
}

static float q6k_block_scalar(const uint8_t *b, const int8_t *x, float dx, const int16_t *bs) {
    const int8_t *sc = (const int8_t *) (b + 192);
    int32_t sum = 0;
    for (int half = 0; half < 2; half++) {
        const uint8_t *ql = b + 64 * half;
        const uint8_t *qh = b + 128 + 32 * half;
        const int8_t *xs = x + 128 * half;
        const int8_t *s = sc + 8 * half;
        for (int l = 0; l < 32; l++) {
            int is = l / 16;
            int q1 = (ql[l] & 0x0F) | ((qh[l] & 3) << 4);
            int q2 = (ql[l + 32] & 0x0F) | (((qh[l] >> 2) & 3) << 4);
            int q3 = (ql[l] >> 4) | (((qh[l] >> 4) & 3) << 4);
            int q4 = (ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4);
            sum += s[is] * q1 * xs[l] + s[is + 2] * q2 * xs[l + 32] + s[is + 4] * q3 * xs[l + 64]
                   + s[is + 6] * q4 * xs[l + 96];
        }
    }
    for (int k = 0; k < 16; k++) {
        sum -= 32 * sc[k] * bs[k];
    }
    return dx * kq_half(b + 208) * (float) sum;
}

static void kq_scalar(int format, const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd,
                      const int16_t *xb, int colBlocks, int n, float *y, int yStride, int add) {
    int bb = BLOCK_BYTES[format];
    for (int r = 0; r < rows; r++) {
        const uint8_t *wr = w + (size_t) r * blocks * bb;
        for (int c = 0; c < n; c++) {
            const int8_t *x = xq + (size_t) c * colBlocks * QK_K;
            const float *d = xd + (size_t) c * colBlocks;
            const int16_t *bs = xb + (size_t) c * colBlocks * 16;
            float s = 0;
            for (int k = 0; k < blocks; k++) {
                const uint8_t *b = wr + (size_t) k * bb;
                s += format == F_Q6K ? q6k_block_scalar(b, x + k * QK_K, d[k], bs + 16 * k)
                                     : q45k_block_scalar(b, format == F_Q5K, x + k * QK_K, d[k], bs + 16 * k);
            }
            kq_store(y, yStride, r, c, s, add);
        }
    }
}

#define KQ_SCALAR_FN(NAME, F)                                                                                         \
    static void NAME(const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd, const int16_t *xb,   \
                     int colBlocks, int n, float *y, int yStride, int add) {                                         \
        kq_scalar(F, w, rows, blocks, xq, xd, xb, colBlocks, n, y, yStride, add);                                    \
    }
KQ_SCALAR_FN(q4k_scalar, F_Q4K)
KQ_SCALAR_FN(q5k_scalar, F_Q5K)
KQ_SCALAR_FN(q6k_scalar, F_Q6K)

/* Per block of 256: d = max|x| / 127, q = round-half-even(x / d), the sums of every 16 quants. */
static void kq_quantize_scalar(const float *x, int values, int8_t *q, float *d, int16_t *bs) {
    for (int k = 0; k < values / QK_K; k++) {
        const float *v = x + (size_t) k * QK_K;
        float amax = 0;
        for (int j = 0; j < QK_K; j++) {
            float a = fabsf(v[j]);
            amax = a > amax ? a : amax;
        }
        float dk = amax / 127.0f;
        float id = dk != 0 ? 1.0f / dk : 0.0f;
        for (int g = 0; g < 16; g++) {
            int32_t sum = 0;
            for (int j = 16 * g; j < 16 * g + 16; j++) {
                int32_t qi = (int32_t) rintf(v[j] * id);
                q[(size_t) k * QK_K + j] = (int8_t) qi;
                sum += qi;
            }
            bs[(size_t) k * 16 + g] = (int16_t) sum;
        }
        d[k] = dk;
    }
}

#ifdef KQ_ARM
/* ---------------------------------------------------------------- aarch64 NEON: scalar's float steps, vector integers */

static inline int32x4_t kq_dot16_neon(int32x4_t acc, int8x16_t a, int8x16_t b) {
    int32x4_t lo = vpaddlq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    int32x4_t hi = vpaddlq_s16(vmull_high_s8(a, b));
    return vaddq_s32(acc, vpaddq_s32(lo, hi));
}

#ifdef KQ_DOTPROD
static inline KT_DOTPROD int32x4_t kq_dot16_dotprod(int32x4_t acc, int8x16_t a, int8x16_t b) {
    return amulet_sdot(acc, a, b);
}
#endif

/* The 6-bit quants (0..63) of Q6_K and 4/5-bit ones of Q4_K/Q5_K fit signed bytes: the dot products are sdot's. */
#define KQ_S8(u) vreinterpretq_s8_u8(u)

/*
 * q45k_block_scalar and q6k_block_scalar with the integer sums on vectors (DOT: acc + 4 lane sums of 16 byte
 * products). The integers are exact whatever their order, the float32 expression is the scalar one's.
 */
#define KQ_NEON_BLOCKS(SUF, T, DOT)                                                                                   \
    static inline __attribute__((always_inline)) T float q45k_block_##SUF(const uint8_t *b, int five,                \
                                                                          const int8_t *x, float dx,                  \
                                                                          const int16_t *bs) {                        \
        uint8_t sm[16];                                                                                               \
        kq_scales(b + 4, sm);                                                                                         \
        const uint8_t *qh = b + 16;                                                                                   \
        const uint8_t *qs = b + (five ? 48 : 16);                                                                     \
        const uint8x16_t m4 = vdupq_n_u8(0x0F), h16 = vdupq_n_u8(0x10);                                               \
        uint8x16_t qh0 = vdupq_n_u8(0), qh1 = qh0;                                                                    \
        if (five) {                                                                                                   \
            qh0 = vld1q_u8(qh);                                                                                       \
            qh1 = vld1q_u8(qh + 16);                                                                                  \
        }                                                                                                             \
        int32_t sum = 0, mins = 0;                                                                                    \
        for (int c = 0; c < 4; c++) {                                                                                 \
            uint8x16_t q0 = vld1q_u8(qs + 32 * c), q1 = vld1q_u8(qs + 32 * c + 16);                                   \
            uint8x16_t l0 = vandq_u8(q0, m4), l1 = vandq_u8(q1, m4);                                                  \
            uint8x16_t u0 = vshrq_n_u8(q0, 4), u1 = vshrq_n_u8(q1, 4);                                                \
            if (five) {                                                                                               \
                uint8x16_t bl = vdupq_n_u8((uint8_t) (1u << (2 * c))), bh = vdupq_n_u8((uint8_t) (2u << (2 * c)));    \
                l0 = vorrq_u8(l0, vandq_u8(vtstq_u8(qh0, bl), h16));                                                  \
                l1 = vorrq_u8(l1, vandq_u8(vtstq_u8(qh1, bl), h16));                                                  \
                u0 = vorrq_u8(u0, vandq_u8(vtstq_u8(qh0, bh), h16));                                                  \
                u1 = vorrq_u8(u1, vandq_u8(vtstq_u8(qh1, bh), h16));                                                  \
            }                                                                                                         \
            const int8_t *xc = x + 64 * c;                                                                            \
            int32x4_t lo = DOT(vdupq_n_s32(0), KQ_S8(l0), vld1q_s8(xc));                                              \
            lo = DOT(lo, KQ_S8(l1), vld1q_s8(xc + 16));                                                               \
            int32x4_t hi = DOT(vdupq_n_s32(0), KQ_S8(u0), vld1q_s8(xc + 32));                                         \
            hi = DOT(hi, KQ_S8(u1), vld1q_s8(xc + 48));                                                               \
            sum += vaddvq_s32(lo) * sm[2 * c] + vaddvq_s32(hi) * sm[2 * c + 1];                                       \
        }                                                                                                             \
        for (int j = 0; j < 8; j++) {                                                                                 \
            mins += sm[8 + j] * (bs[2 * j] + bs[2 * j + 1]);                                                          \
        }                                                                                                             \
        return dx * (kq_half(b) * (float) sum - kq_half(b + 2) * (float) mins);                                       \
    }                                                                                                                 \
                                                                                                                      \
    static inline __attribute__((always_inline)) T float q6k_block_##SUF(const uint8_t *b, const int8_t *x,          \
                                                                         float dx, const int16_t *bs) {               \
        const int8_t *sc = (const int8_t *) (b + 192);                                                                \
        const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(0x03);                                                \
        int32_t sum = 0;                                                                                              \
        for (int half = 0; half < 2; half++) {                                                                        \
            const uint8_t *ql = b + 64 * half;                                                                        \
            const uint8_t *qh = b + 128 + 32 * half;                                                                  \
            const int8_t *xs = x + 128 * half;                                                                        \
            const int8_t *s = sc + 8 * half;                                                                          \
            for (int is = 0; is < 2; is++) {                                                                          \
                /* l = 16 * is .. 16 * is + 15: scales s[is], s[is + 2], s[is + 4], s[is + 6] */                      \
                uint8x16_t a = vld1q_u8(ql + 16 * is), bq = vld1q_u8(ql + 32 + 16 * is);                              \
                uint8x16_t h = vld1q_u8(qh + 16 * is);                                                                \
                uint8x16_t q1 = vorrq_u8(vandq_u8(a, m4), vshlq_n_u8(vandq_u8(h, m3), 4));                            \
                uint8x16_t q2 = vorrq_u8(vandq_u8(bq, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 2), m3), 4));            \
                uint8x16_t q3 = vorrq_u8(vshrq_n_u8(a, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h, 4), m3), 4));            \
                uint8x16_t q4 = vorrq_u8(vshrq_n_u8(bq, 4), vshlq_n_u8(vshrq_n_u8(h, 6), 4));                         \
                const int8_t *xl = xs + 16 * is;                                                                      \
                int32x4_t z = vdupq_n_s32(0);                                                                         \
                sum += s[is] * vaddvq_s32(DOT(z, KQ_S8(q1), vld1q_s8(xl)))                                            \
                       + s[is + 2] * vaddvq_s32(DOT(z, KQ_S8(q2), vld1q_s8(xl + 32)))                                 \
                       + s[is + 4] * vaddvq_s32(DOT(z, KQ_S8(q3), vld1q_s8(xl + 64)))                                 \
                       + s[is + 6] * vaddvq_s32(DOT(z, KQ_S8(q4), vld1q_s8(xl + 96)));                                \
            }                                                                                                         \
        }                                                                                                             \
        for (int k = 0; k < 16; k++) {                                                                                \
            sum -= 32 * sc[k] * bs[k];                                                                                \
        }                                                                                                             \
        return dx * kq_half(b + 208) * (float) sum;                                                                   \
    }                                                                                                                 \
                                                                                                                      \
    /* kq_scalar with the blocks above: the same float32 sum over the blocks in order, column by column */           \
    static inline __attribute__((always_inline)) T void kq_rows_##SUF(                                               \
            int format, const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd, const int16_t *xb, \
            int colBlocks, int n, float *y, int yStride, int add) {                                                   \
        int bb = BLOCK_BYTES[format];                                                                                 \
        for (int r = 0; r < rows; r++) {                                                                              \
            const uint8_t *wr = w + (size_t) r * blocks * bb;                                                         \
            for (size_t o = 0; o < (size_t) blocks * bb; o += 64) {                                                   \
                __builtin_prefetch(wr + (size_t) blocks * bb + o);                                                    \
            }                                                                                                         \
            for (int c = 0; c < n; c++) {                                                                             \
                const int8_t *x = xq + (size_t) c * colBlocks * QK_K;                                                 \
                const float *d = xd + (size_t) c * colBlocks;                                                         \
                const int16_t *bs = xb + (size_t) c * colBlocks * 16;                                                 \
                float s = 0;                                                                                          \
                for (int k = 0; k < blocks; k++) {                                                                    \
                    const uint8_t *b = wr + (size_t) k * bb;                                                          \
                    s += format == F_Q6K ? q6k_block_##SUF(b, x + k * QK_K, d[k], bs + 16 * k)                        \
                                         : q45k_block_##SUF(b, format == F_Q5K, x + k * QK_K, d[k], bs + 16 * k);     \
                }                                                                                                     \
                kq_store(y, yStride, r, c, s, add);                                                                   \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    static T void q4k_##SUF(const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd,               \
                            const int16_t *xb, int colBlocks, int n, float *y, int yStride, int add) {               \
        kq_rows_##SUF(F_Q4K, w, rows, blocks, xq, xd, xb, colBlocks, n, y, yStride, add);                            \
    }                                                                                                                 \
    static T void q5k_##SUF(const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd,               \
                            const int16_t *xb, int colBlocks, int n, float *y, int yStride, int add) {               \
        kq_rows_##SUF(F_Q5K, w, rows, blocks, xq, xd, xb, colBlocks, n, y, yStride, add);                            \
    }                                                                                                                 \
    static T void q6k_##SUF(const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd,               \
                            const int16_t *xb, int colBlocks, int n, float *y, int yStride, int add) {               \
        kq_rows_##SUF(F_Q6K, w, rows, blocks, xq, xd, xb, colBlocks, n, y, yStride, add);                            \
    }

KQ_NEON_BLOCKS(neon, , kq_dot16_neon)
#ifdef KQ_DOTPROD
KQ_NEON_BLOCKS(dotprod, KT_DOTPROD, kq_dot16_dotprod)
#endif
#endif /* KQ_ARM */

#ifdef KQ_X86
#define KT_AVX2 __attribute__((target("avx2,fma,f16c")))
#define KT_AVXVNNI __attribute__((target("avx2,fma,f16c,avxvnni")))
#define KT_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))

static inline KT_AVX2 float kq_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/*
 * kq_scales on vectors: the 12 scale bytes at s (16 bytes read; the 4 after them are still inside the block) as
 * scales 0-7 in bytes 0-7 and minimums 0-7 in bytes 8-15, the same bytes kq_scales writes.
 */
static inline __attribute__((always_inline)) KT_AVX2 __m128i kq_scales_v(const uint8_t *s) {
    __m128i x = _mm_loadu_si128((const __m128i *) s);                       /* dwords a, b, c, - */
    __m128i low6 = _mm_and_si128(x, _mm_set1_epi8(0x3F));                    /* v0 = a & low6, v2 = b & low6 */
    __m128i c = _mm_srlv_epi32(_mm_shuffle_epi32(x, 0xAA), _mm_setr_epi32(0, 4, 0, 0));
    __m128i top = _mm_and_si128(_mm_srli_epi32(x, 2), _mm_set1_epi8(0x30)); /* ((a >> 6) & low2) << 4, same of b */
    __m128i v13 = _mm_or_si128(_mm_and_si128(c, _mm_set1_epi8(0x0F)), top);  /* v1, v3 */
    return _mm_unpacklo_epi32(low6, v13);
}

/* Byte pairs picking int16 number t of eight in both 128-bit lanes: a sub-block's scale in every int16 lane. */
#define KQ_PICKW(t) _mm256_set1_epi16((short) ((2 * (t)) | ((2 * (t) + 1) << 8)))

#define MADDW_AVX2(acc, p, s) _mm256_add_epi32(acc, _mm256_madd_epi16(p, s))
#define MADDW_AVXVNNI(acc, p, s) _mm256_dpwssd_avx_epi32(acc, p, s)

/*
 * The weights KQ_PREFETCH_AHEAD bytes ahead of a block, requested when the block is read (one prefetch a cache line;
 * x86 prefetches never fault, so the last rows' requests past the end are harmless). Without them two or more columns
 * on rows of 12,288 weights and more, streamed from memory, ran at 0.4-0.6 of one column (rows of 8,192 or fewer did
 * not, nor long rows from the L3 cache): the hardware prefetchers did not keep the weights' stream ahead while two
 * columns' long activation streams were read beside it.
 */
#ifndef KQ_PREFETCH_AHEAD
#define KQ_PREFETCH_AHEAD 4096
#endif
#define KQ_PREFETCH(b, bb)                                                                                            \
    do {                                                                                                              \
        if (KQ_PREFETCH_AHEAD > 0) {                                                                                  \
            for (int o_ = 0; o_ < (bb); o_ += 64) {                                                                   \
                _mm_prefetch((const char *) (b) + KQ_PREFETCH_AHEAD + o_, _MM_HINT_T0);                              \
            }                                                                                                         \
        }                                                                                                             \
    } while (0)

/* A kernel of one variant for n = 1..KQ_TILE columns: CALL specialised (inlined) for each column count NC. */
#define KQ_WRAP(NAME, T, CALL)                                                                                        \
    static T void NAME(const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd,                    \
                       const int16_t *xb, int colBlocks, int n, float *y, int yStride, int add) {                    \
        switch (n) {                                                                                                  \
            case 4: { const int NC = 4; CALL; break; }                                                                \
            case 3: { const int NC = 3; CALL; break; }                                                                \
            case 2: { const int NC = 2; CALL; break; }                                                                \
            default: { const int NC = 1; CALL; break; }                                                               \
        }                                                                                                             \
    }

/*
 * The 256-bit kernels of one variant (T its target attribute, MADDW int16 pairs x scales accumulated into int32),
 * for tiles of 1 to KQ_TILE columns. Each block: its weights' quants as unsigned bytes, 32 at a time (unpacked once
 * for every column of the tile), vpmaddubsw with each column's activation quants (int16 pairs; at most 2 x 63 x 127,
 * no saturation), then times the piece's sub-block scale into a column's int32 accumulators (NA for one column, NA2
 * for two, NAW for three or four: independent chains, added at the block's end); the block's int32 sum converted
 * once and multiplied by d x dx. The int32 lanes hold the same integers whatever the number of accumulators, so a
 * column's float arithmetic is the same whatever the tile's width and the variant. VSW: scales unpacked on vectors
 * for tiles of more than one column too (one column always does).
 */
#define KQ_256(SUF, T, MADDW, NA2, NAW, VSW)                                                                           \
    static inline __attribute__((always_inline)) T void q45k_##SUF##_t(                                               \
            const int five, const int nc, const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd,  \
            const int16_t *xb, int colBlocks, float *y, int yStride, int add) {                                       \
        const int bb = five ? 176 : 144;                                                                              \
        const int VS = nc == 1 || VSW;                                                                                \
        /* independent int32 accumulators a column (exact integers, summed at the block's end): short chains */      \
        enum { NA = 4 };                                                                                              \
        const int na = nc == 1 ? NA : nc == 2 ? NA2 : NAW;                                                           \
        const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);                                         \
        for (int r = 0; r < rows; r++) {                                                                              \
            const uint8_t *wr = w + (size_t) r * blocks * bb;                                                         \
            __m256 a[KQ_TILE], cm[KQ_TILE];                                                                           \
            _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                    \
                a[j] = _mm256_setzero_ps();                                                                           \
                cm[j] = _mm256_setzero_ps();                                                                          \
            }                                                                                                         \
            for (int k = 0; k < blocks; k++) {                                                                        \
                const uint8_t *b = wr + (size_t) k * bb;                                                              \
                KQ_PREFETCH(b, bb);                                                                                   \
                /* scales unpacked on vectors (VS), or in scalar code where the vector pipes are the busier */        \
                uint8_t sb[16];                                                                                       \
                __m128i sm;                                                                                           \
                if (VS) {                                                                                             \
                    sm = kq_scales_v(b + 4);                                                                          \
                } else {                                                                                              \
                    kq_scales(b + 4, sb);                                                                             \
                    sm = _mm_loadu_si128((const __m128i *) sb);                                                       \
                }                                                                                                     \
                __m256i sw = _mm256_broadcastsi128_si256(_mm_cvtepu8_epi16(sm));                                      \
                const uint8_t *qs = b + (five ? 48 : 16);                                                             \
                __m256i hb = five ? _mm256_loadu_si256((const __m256i *) (b + 16)) : _mm256_setzero_si256();          \
                const int8_t *xk = xq + (size_t) k * QK_K;                                                            \
                __m256i s[KQ_TILE][NA];                                                                               \
                _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                \
                    _Pragma("GCC unroll 4") for (int i = 0; i < na; i++) {                                            \
                        s[j][i] = _mm256_setzero_si256();                                                             \
                    }                                                                                                 \
                }                                                                                                     \
                _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++) {                                                 \
                    __m256i q = _mm256_loadu_si256((const __m256i *) (qs + 32 * c));                                  \
                    __m256i lo = _mm256_and_si256(q, m4);                                                             \
                    __m256i hi = _mm256_and_si256(_mm256_srli_epi16(q, 4), m4);                                       \
                    if (five) {                                                                                       \
                        __m256i h = _mm256_srli_epi16(hb, 2 * c);                                                     \
                        lo = _mm256_or_si256(lo, _mm256_slli_epi16(_mm256_and_si256(h, one), 4));                     \
                        hi = _mm256_or_si256(hi, _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(h, 1), one), 4)); \
                    }                                                                                                 \
                    __m256i sl = VS ? _mm256_shuffle_epi8(sw, KQ_PICKW(2 * c)) : _mm256_set1_epi16(sb[2 * c]);        \
                    __m256i sh = VS ? _mm256_shuffle_epi8(sw, KQ_PICKW(2 * c + 1)) : _mm256_set1_epi16(sb[2 * c + 1]); \
                    const int il = (2 * c) % na, ih = (2 * c + 1) % na;                                               \
                    _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                            \
                        const int8_t *xj = xk + (size_t) j * colBlocks * QK_K + 64 * c;                               \
                        s[j][il] = MADDW(s[j][il], _mm256_maddubs_epi16(lo, _mm256_loadu_si256((const __m256i *) xj)), sl); \
                        s[j][ih] = MADDW(s[j][ih], _mm256_maddubs_epi16(hi,                                           \
                                         _mm256_loadu_si256((const __m256i *) (xj + 32))), sh);                       \
                    }                                                                                                 \
                }                                                                                                     \
                /* the minimums, each twice, against the 16-quant sums */                                             \
                __m256i mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));                                       \
                float dw = kq_half(b), dm = kq_half(b + 2);                                                           \
                _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                \
                    const size_t cj = (size_t) j * colBlocks;                                                         \
                    __m256i sj = s[j][0];                                                                             \
                    _Pragma("GCC unroll 4") for (int i = 1; i < na; i++) {                                            \
                        sj = _mm256_add_epi32(sj, s[j][i]);                                                           \
                    }                                                                                                 \
                    __m256i mj = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *) (xb + 16 * (cj + k))), mins); \
                    a[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sj), _mm256_set1_ps(dw * xd[cj + k]), a[j]);            \
                    cm[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mj), _mm256_set1_ps(dm * xd[cj + k]), cm[j]);          \
                }                                                                                                     \
            }                                                                                                         \
            _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                    \
                kq_store(y, yStride, r, j, kq_hsum(_mm256_sub_ps(a[j], cm[j])), add);                                 \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    static inline __attribute__((always_inline)) T void q6k_##SUF##_t(                                                \
            const int nc, const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd,                  \
            const int16_t *xb, int colBlocks, float *y, int yStride, int add) {                                       \
        enum { NA = 4 };                                                                                              \
        const int na = nc == 1 ? NA : nc == 2 ? NA2 : NAW;                                                           \
        const __m256i m4 = _mm256_set1_epi8(0x0F), m30 = _mm256_set1_epi8(0x30);                                          \
        /* picks int16 number 2t (low lane) and 2t+1 (high lane) of eight, t = 0..3 */                                \
        const __m256i pick[4] = {                                                                                     \
            _mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3), \
            _mm256_setr_epi8(4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7), \
            _mm256_setr_epi8(8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11,  \
                             10, 11, 10, 11, 10, 11),                                                                 \
            _mm256_setr_epi8(12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 14, 15, 14, 15, 14, 15,  \
                             14, 15, 14, 15, 14, 15, 14, 15, 14, 15)};                                                \
        for (int r = 0; r < rows; r++) {                                                                              \
            const uint8_t *wr = w + (size_t) r * blocks * 210;                                                        \
            __m256 a[KQ_TILE];                                                                                        \
            _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                    \
                a[j] = _mm256_setzero_ps();                                                                           \
            }                                                                                                         \
            for (int k = 0; k < blocks; k++) {                                                                        \
                const uint8_t *b = wr + (size_t) k * 210;                                                             \
                KQ_PREFETCH(b, 210);                                                                                  \
                __m128i sc8 = _mm_loadu_si128((const __m128i *) (b + 192));                                           \
                __m256i all = _mm256_cvtepi8_epi16(sc8);                                                              \
                const int8_t *xk = xq + (size_t) k * QK_K;                                                            \
                /* 32 x scale x quant sum, subtracted up front */                                                     \
                __m256i s[KQ_TILE][NA];                                                                               \
                _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                \
                    const int16_t *bj = xb + 16 * ((size_t) j * colBlocks + k);                                       \
                    s[j][0] = _mm256_sub_epi32(_mm256_setzero_si256(), _mm256_slli_epi32(_mm256_madd_epi16(           \
                            _mm256_loadu_si256((const __m256i *) bj), all), 5));                                      \
                    _Pragma("GCC unroll 4") for (int i = 1; i < na; i++) {                                            \
                        s[j][i] = _mm256_setzero_si256();                                                             \
                    }                                                                                                 \
                }                                                                                                     \
                _Pragma("GCC unroll 4") for (int half = 0; half < 2; half++) {                                        \
                    __m256i sh = _mm256_broadcastsi128_si256(_mm_cvtepi8_epi16(half ? _mm_unpackhi_epi64(sc8, sc8) : sc8)); \
                    __m256i l0 = _mm256_loadu_si256((const __m256i *) (b + 64 * half));                               \
                    __m256i l1 = _mm256_loadu_si256((const __m256i *) (b + 64 * half + 32));                          \
                    __m256i h = _mm256_loadu_si256((const __m256i *) (b + 128 + 32 * half));                          \
                    __m256i q[4];                                                                                     \
                    /* high bits 2t, 2t+1 of h moved to bits 4, 5 (16-bit shifts: what crosses a byte is masked) */ \
                    q[0] = _mm256_or_si256(_mm256_and_si256(l0, m4), _mm256_and_si256(_mm256_slli_epi16(h, 4), m30)); \
                    q[1] = _mm256_or_si256(_mm256_and_si256(l1, m4), _mm256_and_si256(_mm256_slli_epi16(h, 2), m30)); \
                    q[2] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l0, 4), m4), _mm256_and_si256(h, m30)); \
                    q[3] = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(l1, 4), m4),                            \
                                           _mm256_and_si256(_mm256_srli_epi16(h, 2), m30));                           \
                    _Pragma("GCC unroll 4") for (int t = 0; t < 4; t++) {                                             \
                        __m256i sc = _mm256_shuffle_epi8(sh, pick[t]);                                                \
                        const int at = 128 * half + 32 * t;                                                           \
                        _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                        \
                            const int8_t *xj = xk + (size_t) j * colBlocks * QK_K + at;                               \
                            s[j][(4 * half + t) % na] = MADDW(s[j][(4 * half + t) % na],                              \
                                    _mm256_maddubs_epi16(q[t], _mm256_loadu_si256((const __m256i *) xj)), sc);        \
                        }                                                                                             \
                    }                                                                                                 \
                }                                                                                                     \
                float dw = kq_half(b + 208);                                                                          \
                _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                \
                    __m256i sj = s[j][0];                                                                             \
                    _Pragma("GCC unroll 4") for (int i = 1; i < na; i++) {                                            \
                        sj = _mm256_add_epi32(sj, s[j][i]);                                                           \
                    }                                                                                                 \
                    a[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sj), _mm256_set1_ps(dw * xd[(size_t) j * colBlocks + k]), \
                                           a[j]);                                                                     \
                }                                                                                                     \
            }                                                                                                         \
            _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                    \
                kq_store(y, yStride, r, j, kq_hsum(a[j]), add);                                                       \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    KQ_WRAP(q4k_##SUF, T, q45k_##SUF##_t(0, NC, w, rows, blocks, xq, xd, xb, colBlocks, y, yStride, add))             \
    KQ_WRAP(q5k_##SUF, T, q45k_##SUF##_t(1, NC, w, rows, blocks, xq, xd, xb, colBlocks, y, yStride, add))             \
    KQ_WRAP(q6k_##SUF, T, q6k_##SUF##_t(NC, w, rows, blocks, xq, xd, xb, colBlocks, y, yStride, add))

/*
 * Per variant: int32 accumulators a column for two columns and for three or four (one column always has four), and
 * whether tiles of more than one column unpack the Q4_K/Q5_K scales on vectors. With 16 vector registers (AVX2,
 * AVX-VNNI) the columns of a tile already give the core independent chains, and scalar scale unpacking leaves the
 * vector pipes to the products (measured: two columns 0.9x with vector scales). (The AVX-512 VNNI variant, which
 * took four and two with vector scales here, has its own 512-bit kernels below.)
 */
KQ_256(avx2, KT_AVX2, MADDW_AVX2, 1, 1, 0)
#ifdef KQ_AVXVNNI
KQ_256(avxvnni, KT_AVXVNNI, MADDW_AVXVNNI, 1, 1, 0)
#endif

/*
 * The AVX-512 VNNI kernels, on 512-bit registers: a register holds two 32-weight pieces, so every vpmaddubsw and
 * vpdpwssd of a column does the work of two (a column's cost a block halved; the unpacking per 64 weights is a
 * broadcast load, one per-half variable shift and a mask). Q4_K/Q5_K: piece c's 32 quant bytes broadcast to both
 * halves, low nibbles kept in the low half and high nibbles in the high one, against the 64 activations 64c..64c+63
 * (which are in that order), the low half scaled by sub-block 2c and the high half by 2c+1. Q6_K: pieces 2p and 2p+1
 * of a half-block in one register against 64 contiguous activations. At the block's end the two 256-bit halves of a
 * column's accumulators are added: each int32 lane then holds exactly the integer the 256-bit kernels' lane holds
 * (the same byte positions of the same pieces times the same scales; integers add exactly), so the float32 steps
 * after it, kept as they were, give the same bits. NZ1 / NZ2 / NZW: accumulators a column for one, two, three or
 * four columns.
 */
#define KQ_Z_PAIR(lo256, hi256) _mm512_inserti64x4(_mm512_castsi256_si512(lo256), (hi256), 1)

#define KQ_512(SUF, T, NZ1, NZ2, NZW)                                                                                 \
    static inline __attribute__((always_inline)) T void q45k_##SUF##_t(                                               \
            const int five, const int nc, const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd,  \
            const int16_t *xb, int colBlocks, float *y, int yStride, int add) {                                       \
        const int bb = five ? 176 : 144;                                                                              \
        enum { NZ = 4 };                                                                                              \
        const int na = nc == 1 ? NZ1 : nc == 2 ? NZ2 : NZW;                                                          \
        const __m512i m4 = _mm512_set1_epi8(0x0F), one = _mm512_set1_epi8(1);                                         \
        /* 16-bit shifts: 0 in the low half (low nibbles), 4 in the high half (high nibbles) */                      \
        const __m512i nib = KQ_Z_PAIR(_mm256_setzero_si256(), _mm256_set1_epi16(4));                                  \
        for (int r = 0; r < rows; r++) {                                                                              \
            const uint8_t *wr = w + (size_t) r * blocks * bb;                                                         \
            __m256 a[KQ_TILE], cm[KQ_TILE];                                                                           \
            _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                    \
                a[j] = _mm256_setzero_ps();                                                                           \
                cm[j] = _mm256_setzero_ps();                                                                          \
            }                                                                                                         \
            for (int k = 0; k < blocks; k++) {                                                                        \
                const uint8_t *b = wr + (size_t) k * bb;                                                              \
                KQ_PREFETCH(b, bb);                                                                                   \
                __m128i sm = kq_scales_v(b + 4);                                                                      \
                __m512i sw = _mm512_broadcast_i32x4(_mm_cvtepu8_epi16(sm));                                           \
                const uint8_t *qs = b + (five ? 48 : 16);                                                             \
                __m512i hb = five ? _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (b + 16)))            \
                                  : _mm512_setzero_si512();                                                           \
                const int8_t *xk = xq + (size_t) k * QK_K;                                                            \
                __m512i s[KQ_TILE][NZ];                                                                               \
                _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                \
                    _Pragma("GCC unroll 4") for (int i = 0; i < na; i++) {                                            \
                        s[j][i] = _mm512_setzero_si512();                                                             \
                    }                                                                                                 \
                }                                                                                                     \
                _Pragma("GCC unroll 4") for (int c = 0; c < 4; c++) {                                                 \
                    __m512i q = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (qs + 32 * c)));          \
                    __m512i wq = _mm512_and_si512(_mm512_srlv_epi16(q, nib), m4);                                     \
                    if (five) { /* high bits 2c (low half) and 2c + 1 (high half) to bit 4 */                         \
                        __m512i h = _mm512_srlv_epi16(hb, KQ_Z_PAIR(_mm256_set1_epi16(2 * c),                         \
                                                                    _mm256_set1_epi16(2 * c + 1)));                   \
                        wq = _mm512_or_si512(wq, _mm512_slli_epi16(_mm512_and_si512(h, one), 4));                     \
                    }                                                                                                 \
                    __m512i sc = _mm512_shuffle_epi8(sw, KQ_Z_PAIR(KQ_PICKW(2 * c), KQ_PICKW(2 * c + 1)));           \
                    _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                            \
                        const int8_t *xj = xk + (size_t) j * colBlocks * QK_K + 64 * c;                               \
                        s[j][c % na] = _mm512_dpwssd_epi32(s[j][c % na],                                              \
                                _mm512_maddubs_epi16(wq, _mm512_loadu_si512((const void *) xj)), sc);                 \
                    }                                                                                                 \
                }                                                                                                     \
                __m256i mins = _mm256_cvtepu8_epi16(_mm_unpackhi_epi8(sm, sm));                                       \
                float dw = kq_half(b), dm = kq_half(b + 2);                                                           \
                _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                \
                    const size_t cj = (size_t) j * colBlocks;                                                         \
                    __m512i z = s[j][0];                                                                              \
                    _Pragma("GCC unroll 4") for (int i = 1; i < na; i++) {                                            \
                        z = _mm512_add_epi32(z, s[j][i]);                                                             \
                    }                                                                                                 \
                    __m256i sj = _mm256_add_epi32(_mm512_castsi512_si256(z), _mm512_extracti64x4_epi64(z, 1));        \
                    __m256i mj = _mm256_madd_epi16(_mm256_loadu_si256((const __m256i *) (xb + 16 * (cj + k))), mins); \
                    a[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sj), _mm256_set1_ps(dw * xd[cj + k]), a[j]);            \
                    cm[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mj), _mm256_set1_ps(dm * xd[cj + k]), cm[j]);          \
                }                                                                                                     \
            }                                                                                                         \
            _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                    \
                kq_store(y, yStride, r, j, kq_hsum(_mm256_sub_ps(a[j], cm[j])), add);                                 \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    static inline __attribute__((always_inline)) T void q6k_##SUF##_t(                                                \
            const int nc, const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd,                  \
            const int16_t *xb, int colBlocks, float *y, int yStride, int add) {                                       \
        enum { NZ = 4 };                                                                                              \
        const int na = nc == 1 ? NZ1 : nc == 2 ? NZ2 : NZW;                                                          \
        const __m512i m4 = _mm512_set1_epi8(0x0F), m30 = _mm512_set1_epi8(0x30);                                      \
        /* high bits of pieces 0 / 1 moved up to bits 4-5 (shifts 4 and 2), of pieces 2 / 3 (0 and 2 down) */       \
        const __m512i up = KQ_Z_PAIR(_mm256_set1_epi16(4), _mm256_set1_epi16(2));                                     \
        const __m512i down = KQ_Z_PAIR(_mm256_setzero_si256(), _mm256_set1_epi16(2));                                 \
        /* 128-bit lane i picks int16 number 4p + i of eight: pieces 2p (lanes 0, 1) and 2p + 1 (lanes 2, 3) */       \
        const __m512i pick[2] = {                                                                                     \
            KQ_Z_PAIR(_mm256_setr_epi8(0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1,                                \
                                       2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3, 2, 3),                               \
                      _mm256_setr_epi8(4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5, 4, 5,                                \
                                       6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7, 6, 7)),                              \
            KQ_Z_PAIR(_mm256_setr_epi8(8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9, 8, 9,                                \
                                       10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11, 10, 11),               \
                      _mm256_setr_epi8(12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13, 12, 13,                \
                                       14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15, 14, 15))};             \
        for (int r = 0; r < rows; r++) {                                                                              \
            const uint8_t *wr = w + (size_t) r * blocks * 210;                                                        \
            __m256 a[KQ_TILE];                                                                                        \
            _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                    \
                a[j] = _mm256_setzero_ps();                                                                           \
            }                                                                                                         \
            for (int k = 0; k < blocks; k++) {                                                                        \
                const uint8_t *b = wr + (size_t) k * 210;                                                             \
                KQ_PREFETCH(b, 210);                                                                                  \
                __m128i sc8 = _mm_loadu_si128((const __m128i *) (b + 192));                                           \
                __m256i all = _mm256_cvtepi8_epi16(sc8);                                                              \
                const int8_t *xk = xq + (size_t) k * QK_K;                                                            \
                __m512i s[KQ_TILE][NZ];                                                                               \
                _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                \
                    _Pragma("GCC unroll 4") for (int i = 0; i < na; i++) {                                            \
                        s[j][i] = _mm512_setzero_si512();                                                             \
                    }                                                                                                 \
                }                                                                                                     \
                _Pragma("GCC unroll 2") for (int half = 0; half < 2; half++) {                                        \
                    __m512i sh = _mm512_broadcast_i32x4(_mm_cvtepi8_epi16(half ? _mm_unpackhi_epi64(sc8, sc8) : sc8)); \
                    __m512i l = _mm512_loadu_si512((const void *) (b + 64 * half));                                   \
                    __m512i h = _mm512_broadcast_i64x4(_mm256_loadu_si256((const __m256i *) (b + 128 + 32 * half)));  \
                    __m512i q[2];                                                                                     \
                    q[0] = _mm512_or_si512(_mm512_and_si512(l, m4), _mm512_and_si512(_mm512_sllv_epi16(h, up), m30)); \
                    q[1] = _mm512_or_si512(_mm512_and_si512(_mm512_srli_epi16(l, 4), m4),                             \
                                           _mm512_and_si512(_mm512_srlv_epi16(h, down), m30));                        \
                    _Pragma("GCC unroll 2") for (int p = 0; p < 2; p++) {                                             \
                        __m512i sc = _mm512_shuffle_epi8(sh, pick[p]);                                                \
                        const int at = 128 * half + 64 * p;                                                           \
                        _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                        \
                            const int8_t *xj = xk + (size_t) j * colBlocks * QK_K + at;                               \
                            s[j][(2 * half + p) % na] = _mm512_dpwssd_epi32(s[j][(2 * half + p) % na],                \
                                    _mm512_maddubs_epi16(q[p], _mm512_loadu_si512((const void *) xj)), sc);           \
                        }                                                                                             \
                    }                                                                                                 \
                }                                                                                                     \
                float dw = kq_half(b + 208);                                                                          \
                _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                \
                    const int16_t *bj = xb + 16 * ((size_t) j * colBlocks + k);                                       \
                    __m512i z = s[j][0];                                                                              \
                    _Pragma("GCC unroll 4") for (int i = 1; i < na; i++) {                                            \
                        z = _mm512_add_epi32(z, s[j][i]);                                                             \
                    }                                                                                                 \
                    /* 32 x scale x quant sum subtracted (the 256-bit kernels start from it: integers, same sum) */   \
                    __m256i sj = _mm256_sub_epi32(                                                                    \
                            _mm256_add_epi32(_mm512_castsi512_si256(z), _mm512_extracti64x4_epi64(z, 1)),             \
                            _mm256_slli_epi32(_mm256_madd_epi16(_mm256_loadu_si256((const __m256i *) bj), all), 5));  \
                    a[j] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sj), _mm256_set1_ps(dw * xd[(size_t) j * colBlocks + k]), \
                                           a[j]);                                                                     \
                }                                                                                                     \
            }                                                                                                         \
            _Pragma("GCC unroll 4") for (int j = 0; j < nc; j++) {                                                    \
                kq_store(y, yStride, r, j, kq_hsum(a[j]), add);                                                       \
            }                                                                                                         \
        }                                                                                                             \
    }                                                                                                                 \
    KQ_WRAP(q4k_##SUF, T, q45k_##SUF##_t(0, NC, w, rows, blocks, xq, xd, xb, colBlocks, y, yStride, add))             \
    KQ_WRAP(q5k_##SUF, T, q45k_##SUF##_t(1, NC, w, rows, blocks, xq, xd, xb, colBlocks, y, yStride, add))             \
    KQ_WRAP(q6k_##SUF, T, q6k_##SUF##_t(NC, w, rows, blocks, xq, xd, xb, colBlocks, y, yStride, add))

#ifndef KQ_NZ1
#define KQ_NZ1 4
#endif
#ifndef KQ_NZ2
#define KQ_NZ2 2
#endif
#ifndef KQ_NZW
#define KQ_NZW 1
#endif
KQ_512(avx512vnni, KT_AVX512, KQ_NZ1, KQ_NZ2, KQ_NZW)

/* As kq_quantize_scalar, eight lanes at a time (the same roundings: vroundps to nearest even). */
static KT_AVX2 void kq_quantize_avx2(const float *x, int values, int8_t *q, float *d, int16_t *bs) {
    const __m256 signBit = _mm256_set1_ps(-0.0f);
    for (int k = 0; k < values / QK_K; k++) {
        const float *v = x + (size_t) k * QK_K;
        __m256 m = _mm256_setzero_ps();
        for (int j = 0; j < QK_K; j += 8) {
            m = _mm256_max_ps(m, _mm256_andnot_ps(signBit, _mm256_loadu_ps(v + j)));
        }
        __m128 h = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        h = _mm_max_ps(h, _mm_movehl_ps(h, h));
        h = _mm_max_ss(h, _mm_movehdup_ps(h));
        float dk = _mm_cvtss_f32(h) / 127.0f;
        float id = dk != 0 ? 1.0f / dk : 0.0f;
        __m256 mul = _mm256_set1_ps(id);
        for (int j = 0; j < QK_K; j += 32) {
            __m256i i0 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(v + j), mul), AMULET_ROUND_NEAREST));
            __m256i i1 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(v + j + 8), mul), AMULET_ROUND_NEAREST));
            __m256i i2 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(v + j + 16), mul), AMULET_ROUND_NEAREST));
            __m256i i3 = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(_mm256_loadu_ps(v + j + 24), mul), AMULET_ROUND_NEAREST));
            /* two 16-quant sums: i0 + i1 and i2 + i3 */
            __m256i sa = _mm256_add_epi32(i0, i1), sb = _mm256_add_epi32(i2, i3);
            __m256i hs = _mm256_hadd_epi32(sa, sb);          /* per 128-bit lane: a01 a23 b01 b23 */
            hs = _mm256_hadd_epi32(hs, hs);                   /* a0123 b0123 .. */
            __m128i t = _mm_add_epi32(_mm256_castsi256_si128(hs), _mm256_extracti128_si256(hs, 1));
            bs[(size_t) k * 16 + j / 16] = (int16_t) _mm_cvtsi128_si32(t);
            bs[(size_t) k * 16 + j / 16 + 1] = (int16_t) _mm_extract_epi32(t, 1);
            __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
            p = _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
            _mm256_storeu_si256((__m256i *) (q + (size_t) k * QK_K + j), p);
        }
        d[k] = dk;
    }
}
#endif /* KQ_X86 */

/* ---------------------------------------------------------------- dispatch */

static int kq_supported = -1;
static int kq_current = KV_SCALAR;

static void kq_init(void) {
    if (kq_supported >= 0) {
        return;
    }
    int m = amulet_i8_supported();
    int best = KV_SCALAR;
    for (int v = KV_COUNT - 1; v > 0; v--) {
        if (m & (1 << v)) {
            best = v;
            break;
        }
    }
    kq_current = best;
    kq_supported = m;
}

static kq_fn kq_kernel(int v, int format) {
    switch (v) {
#ifdef KQ_X86
        case KV_AVX2: return format == F_Q4K ? q4k_avx2 : format == F_Q5K ? q5k_avx2 : q6k_avx2;
#ifdef KQ_AVXVNNI
        case KV_AVXVNNI: return format == F_Q4K ? q4k_avxvnni : format == F_Q5K ? q5k_avxvnni : q6k_avxvnni;
#endif
        case KV_AVX512VNNI: return format == F_Q4K ? q4k_avx512vnni : format == F_Q5K ? q5k_avx512vnni : q6k_avx512vnni;
#endif
#ifdef KQ_ARM
        case KV_NEON: return format == F_Q4K ? q4k_neon : format == F_Q5K ? q5k_neon : q6k_neon;
#ifdef KQ_DOTPROD
        case KV_NEON_DOTPROD: return format == F_Q4K ? q4k_dotprod : format == F_Q5K ? q5k_dotprod : q6k_dotprod;
#endif
#endif
        default: return format == F_Q4K ? q4k_scalar : format == F_Q5K ? q5k_scalar : q6k_scalar;
    }
}

/* For more than KQ_TILE columns: columns a block (their activations stay in L2), weight bytes a row block (in L1). */
#ifndef KQ_BLOCK_COLS
#define KQ_BLOCK_COLS 64
#endif
#ifndef KQ_L1_BYTES
#define KQ_L1_BYTES 16384
#endif

/*
 * Any number of columns: up to KQ_TILE straight to the kernel; more in blocks of KQ_BLOCK_COLS columns over the whole
 * matrix, each in row blocks of about KQ_L1_BYTES of weights that every tile of KQ_TILE columns (the last one
 * narrower) passes over in turn. A column's result is the one it gets alone (the kernels compute each column with the
 * same arithmetic whatever its neighbours).
 */
static void kq_product_any(int v, int format, const uint8_t *w, int rows, int blocks, const int8_t *xq,
                           const float *xd, const int16_t *xb, int colBlocks, int n, float *y, int yStride, int add) {
    kq_fn f = kq_kernel(v, format);
    if (n <= KQ_TILE) {
        f(w, rows, blocks, xq, xd, xb, colBlocks, n, y, yStride, add);
        return;
    }
    const size_t rowBytes = (size_t) blocks * BLOCK_BYTES[format];
    const int rowBlock = rowBytes >= KQ_L1_BYTES ? 1 : (int) (KQ_L1_BYTES / rowBytes);
    for (int c0 = 0; c0 < n; c0 += KQ_BLOCK_COLS) {
        int c1 = n - c0 < KQ_BLOCK_COLS ? n : c0 + KQ_BLOCK_COLS;
        for (int r = 0; r < rows; r += rowBlock) {
            int count = rows - r < rowBlock ? rows - r : rowBlock;
            for (int c = c0; c < c1; c += KQ_TILE) {
                f(w + r * rowBytes, count, blocks, xq + (size_t) c * colBlocks * QK_K, xd + (size_t) c * colBlocks,
                  xb + (size_t) c * colBlocks * 16, colBlocks, c1 - c < KQ_TILE ? c1 - c : KQ_TILE,
                  y + (size_t) c * yStride + r, yStride, add);
            }
        }
    }
}

/* ---------------------------------------------------------------- JNI: io.github.amulet4j.transformer.weights.KQuantKernels */

#define KQ_JNI(name) Java_io_github_amulet4j_transformer_weights_KQuantKernels_##name

JNIEXPORT jint JNICALL KQ_JNI(supportedVariants)(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    kq_init();
    return kq_supported;
}

JNIEXPORT jint JNICALL KQ_JNI(variant)(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    kq_init();
    return kq_current;
}

/* Selects variant v when this CPU supports it; returns the variant in use afterwards. */
JNIEXPORT jint JNICALL KQ_JNI(selectVariant)(JNIEnv *env, jclass cls, jint v) {
    (void) env; (void) cls;
    kq_init();
    if (v >= 0 && v < KV_COUNT && (kq_supported & (1 << v))) {
        kq_current = v;
    }
    return kq_current;
}

JNIEXPORT jstring JNICALL KQ_JNI(variantName)(JNIEnv *env, jclass cls, jint v) {
    (void) cls;
    return (*env)->NewStringUTF(env, amulet_i8_name(v));
}

/* x[0..values) quantized per block of 256 into q (same indices), d (one a block) and bs (one per 16 quants). */
JNIEXPORT void JNICALL KQ_JNI(quantize)(JNIEnv *env, jclass cls, jfloatArray x, jint values, jbyteArray q,
                                         jfloatArray d, jshortArray bs) {
    (void) cls;
    kq_init();
    float *px = (*env)->GetPrimitiveArrayCritical(env, x, NULL);
    int8_t *pq = (*env)->GetPrimitiveArrayCritical(env, q, NULL);
    float *pd = (*env)->GetPrimitiveArrayCritical(env, d, NULL);
    int16_t *pb = (*env)->GetPrimitiveArrayCritical(env, bs, NULL);
    if (px && pq && pd && pb) {
#ifdef KQ_X86
        if ((kq_supported & (1 << KV_AVX2)) && kq_current != KV_SCALAR) {
            kq_quantize_avx2(px, values, pq, pd, pb);
        } else
#endif
        kq_quantize_scalar(px, values, pq, pd, pb);
    }
    if (pb) (*env)->ReleasePrimitiveArrayCritical(env, bs, pb, 0);
    if (pd) (*env)->ReleasePrimitiveArrayCritical(env, d, pd, 0);
    if (pq) (*env)->ReleasePrimitiveArrayCritical(env, q, pq, 0);
    if (px) (*env)->ReleasePrimitiveArrayCritical(env, x, px, JNI_ABORT);
}

/*
 * Rows [0, rows) of a slab from byte wOff of w (format 0 Q4_K, 1 Q5_K, 2 Q6_K; blocks a row) times n (any number)
 * quantized columns of colBlocks blocks; y[yOff + c * yStride + r] stored or (add) added to. Java checks the bounds.
 */
JNIEXPORT void JNICALL KQ_JNI(product)(JNIEnv *env, jclass cls, jint format, jbyteArray w, jint wOff, jint rows,
                                        jint blocks, jbyteArray xq, jfloatArray xd, jshortArray xb, jint colBlocks,
                                        jint n, jfloatArray y, jint yOff, jint yStride, jboolean add) {
    (void) cls;
    kq_init();
    if (format < 0 || format > 2) {
        return;
    }
    uint8_t *pw = (*env)->GetPrimitiveArrayCritical(env, w, NULL);
    int8_t *pq = (*env)->GetPrimitiveArrayCritical(env, xq, NULL);
    float *pd = (*env)->GetPrimitiveArrayCritical(env, xd, NULL);
    int16_t *pb = (*env)->GetPrimitiveArrayCritical(env, xb, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (pw && pq && pd && pb && py) {
        kq_product_any(kq_current, format, pw + wOff, rows, blocks, pq, pd, pb, colBlocks, n, py + yOff, yStride,
                       add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (pb) (*env)->ReleasePrimitiveArrayCritical(env, xb, pb, JNI_ABORT);
    if (pd) (*env)->ReleasePrimitiveArrayCritical(env, xd, pd, JNI_ABORT);
    if (pq) (*env)->ReleasePrimitiveArrayCritical(env, xq, pq, JNI_ABORT);
    if (pw) (*env)->ReleasePrimitiveArrayCritical(env, w, pw, JNI_ABORT);
}

/* As product, on weights off the Java heap: w is the address of the first row (a NativeSlab's). */
JNIEXPORT void JNICALL KQ_JNI(productAt)(JNIEnv *env, jclass cls, jint format, jlong w, jint rows, jint blocks,
                                          jbyteArray xq, jfloatArray xd, jshortArray xb, jint colBlocks, jint n,
                                          jfloatArray y, jint yOff, jint yStride, jboolean add) {
    (void) cls;
    kq_init();
    if (format < 0 || format > 2) {
        return;
    }
    int8_t *pq = (*env)->GetPrimitiveArrayCritical(env, xq, NULL);
    float *pd = (*env)->GetPrimitiveArrayCritical(env, xd, NULL);
    int16_t *pb = (*env)->GetPrimitiveArrayCritical(env, xb, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (pq && pd && pb && py) {
        kq_product_any(kq_current, format, (const uint8_t *) (intptr_t) w, rows, blocks, pq, pd, pb, colBlocks, n,
                       py + yOff, yStride, add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (pb) (*env)->ReleasePrimitiveArrayCritical(env, xb, pb, JNI_ABORT);
    if (pd) (*env)->ReleasePrimitiveArrayCritical(env, xd, pd, JNI_ABORT);
    if (pq) (*env)->ReleasePrimitiveArrayCritical(env, xq, pq, JNI_ABORT);
}
