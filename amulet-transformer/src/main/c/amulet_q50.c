/*
 * Amulet's native Q5_0 kernels (issue 26): weights held in ggml's block_q5_0 as a GGUF file stores them (22 bytes a
 * block of 32: the half scale d, 32 high bits qh, 16 bytes of low nibbles; weight j is d * (q_j - 16) with q_j the
 * nibble and bit j of qh as its fifth bit) times activations quantized per block of 32 to 8 bits, as for Q8_0/Q4_0
 * (amulet_kernels.c's quantize: float32 scales xd). llama-quantize writes Q5_0 in Q4_K_M files where a row is not whole
 * 256-weight blocks (every 896-wide row of the Qwen2.5-0.5B shape). Compiled into libamulet_kernels.so; bound to
 * io.github.amulet4j.transformer.weights.Q50Kernels.
 *
 * C and intrinsics only; each variant has its own target attribute and is chosen at run time with
 * __builtin_cpu_supports (never -march=native). Variants, numbered as amulet_kernels.c numbers them: 0 scalar C,
 * 1 AVX2 (vpmaddubsw + vpmaddwd), 2 AVX-VNNI and 3 AVX-512 VNNI (256-bit vpdpbusd); on aarch64 1 NEON (widening
 * multiplies and pairwise adds) and 2 NEON with sdot (where AT_HWCAP has it).
 *
 * Arithmetic, the same bits in every variant and for every column count: per block k, the 8 exact int32 sums of
 * four consecutive products (elements 4i..4i+3, i = 0..7) of the signed weight quants (q - 16) with the activation
 * quants, each converted to float32 and fused-multiply-added with (d_k * xd_k) (a float32 product) into accumulator
 * i of the block's parity (16 accumulators: even blocks, odd blocks); at the end b_i = even_i + odd_i, summed as
 * ((b0 + b4) + (b2 + b6)) + ((b1 + b5) + (b3 + b7)). The 256-bit variants hold the accumulators in two registers
 * (vpmaddubsw + vpmaddwd, or vpdpbusd, give exactly those sums of four), AVX-512 VNNI in one 512-bit register that
 * takes two blocks an instruction; NEON in four float32x4 (lanes 0-3 and 4-7 of each parity, vfmaq_f32 rounding once as
 * vfmadd does, the sums of four from sdot or from vmull + two pairwise adds); the scalar one runs the same operations
 * with fmaf.
 */
#include <jni.h>
#include <stdint.h>
#include <string.h>
#include <math.h>

#include "amulet_q8q4.h"

#define Q5_QK 32
#define Q5_BYTES 22
/* Rows a block of columns passes over before the next rows (their weights stay in L1), and columns a tile. */
#define Q5_ROW_BLOCK 32
#define Q5_TILE 2
/* Rows ahead that the SIMD kernels ask the cache for (as amulet_kernels.c's: the prefetchers stop at every page). */
#define Q5_PREFETCH_ROWS 8

/* the int8 kernels' variant numbers and names (amulet_q8q4.h) */
enum {
    Q5V_SCALAR = AMULET_I8_SCALAR, Q5V_AVX2 = AMULET_I8_AVX2, Q5V_AVXVNNI = AMULET_I8_AVXVNNI,
    Q5V_AVX512VNNI = AMULET_I8_AVX512VNNI, Q5V_NEON = AMULET_I8_NEON, Q5V_NEON_DOTPROD = AMULET_I8_NEON_DOTPROD,
    Q5V_COUNT = AMULET_I8_COUNT
};

/* Rows [0, rows) times columns [0, n) (n at most Q5_TILE): see q50_product below for the arguments. */
typedef void (*q50_fn)(const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd, int colBlocks,
                       int n, float *y, int yStride, int add);

static inline void q50_store(float *y, int yStride, int r, int c, float s, int add) {
    float *p = y + (size_t) c * yStride + r;
    *p = add ? *p + s : s;
}

/* The 8 accumulators summed in the order every variant uses (that of an AVX horizontal sum). */
static inline float q50_sum8(const float a[8]) {
    return ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]));
}

/* ---------------------------------------------------------------- scalar (any CPU) */

static void q50_scalar(const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd, int colBlocks,
                       int n, float *y, int yStride, int add) {
    for (int r = 0; r < rows; r++) {
        const uint8_t *wr = w + (size_t) r * blocks * Q5_BYTES;
        for (int c = 0; c < n; c++) {
            const int8_t *x = xq + (size_t) c * colBlocks * Q5_QK;
            const float *d = xd + (size_t) c * colBlocks;
            float acc[16] = {0};
            for (int k = 0; k < blocks; k++) {
                float *a = acc + (k & 1) * 8;
                const uint8_t *b = wr + (size_t) k * Q5_BYTES;
                uint16_t h;
                uint32_t qh;
                memcpy(&h, b, 2);
                memcpy(&qh, b + 2, 4);
                const int8_t *xk = x + (size_t) k * Q5_QK;
                float scale = half_to_float(h) * d[k];
                for (int i = 0; i < 8; i++) {
                    int32_t dot = 0;
                    for (int j = 4 * i; j < 4 * i + 4; j++) {
                        int nib = j < 16 ? b[6 + j] & 0x0F : b[6 + j - 16] >> 4;
                        int q = nib | (int) (((qh >> j) & 1u) << 4);
                        dot += (q - 16) * xk[j];
                    }
                    a[i] = fmaf((float) dot, scale, a[i]);
                }
            }
            float b8[8];
            for (int i = 0; i < 8; i++) {
                b8[i] = acc[i] + acc[8 + i];
            }
            q50_store(y, yStride, r, c, q50_sum8(b8), add);
        }
    }
}

/*
 * The row driver of the 8-lane SIMD variants: per row, the blocks alternately into the even and the odd accumulators
 * of each column (NAME##_block, the variant's one-block step on ACC *), then each column's even and odd accumulators
 * added and summed in q50_sum8's order (FINISH). ACC is the variant's 8 float32 lanes, ZERO its zero, PREFETCH(p) asks
 * the cache for p.
 */
#define Q50_ROWS(NAME, T, ACC, ZERO, PREFETCH, FINISH)                                                                \
    static T void NAME(const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd, int colBlocks,      \
                       int n, float *y, int yStride, int add) {                                                       \
        const int8_t *x1 = xq + (size_t) colBlocks * Q5_QK;                                                           \
        const float *d1 = xd + colBlocks;                                                                             \
        const size_t rowBytes = (size_t) blocks * Q5_BYTES;                                                           \
        for (int r = 0; r < rows; r++) {                                                                              \
            const uint8_t *wr = w + (size_t) r * rowBytes;                                                            \
            for (size_t o = 0; o < rowBytes; o += 64) {                                                               \
                PREFETCH(wr + Q5_PREFETCH_ROWS * rowBytes + o);                                                       \
            }                                                                                                         \
            /* even blocks into e0/e1 (columns 0 and 1), odd blocks into o0/o1 */                                     \
            ACC e0 = ZERO, e1 = ZERO, o0 = ZERO, o1 = ZERO;                                                           \
            int k = 0;                                                                                                \
            for (; k + 1 < blocks; k += 2) {                                                                          \
                const uint8_t *b = wr + (size_t) k * Q5_BYTES;                                                        \
                NAME##_block(b, xq + k * Q5_QK, x1 + k * Q5_QK, xd[k], d1[k], n, &e0, &e1);                           \
                NAME##_block(b + Q5_BYTES, xq + (k + 1) * Q5_QK, x1 + (k + 1) * Q5_QK, xd[k + 1], d1[k + 1], n, &o0,  \
                             &o1);                                                                                    \
            }                                                                                                         \
            if (k < blocks) {                                                                                         \
                NAME##_block(wr + (size_t) k * Q5_BYTES, xq + k * Q5_QK, x1 + k * Q5_QK, xd[k], d1[k], n, &e0, &e1);  \
            }                                                                                                         \
            q50_store(y, yStride, r, 0, FINISH(e0, o0), add);                                                         \
            if (n == 2) {                                                                                             \
                q50_store(y, yStride, r, 1, FINISH(e1, o1), add);                                                     \
            }                                                                                                         \
        }                                                                                                             \
    }

#ifdef AMULET_X86
/* ---------------------------------------------------------------- AVX2 and the VNNI variants (256-bit) */

/* The signed quants q - 16 of a block, 32 bytes in element order. */
static inline __attribute__((always_inline)) T_AVX2 __m256i q50_quants(const uint8_t *b) {
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    __m128i lo = _mm_loadu_si128((const __m128i *) (b + 6));
    __m256i nib = _mm256_and_si256(_mm256_insertf128_si256(_mm256_castsi128_si256(lo), _mm_srli_epi16(lo, 4), 1),
                                   _mm256_set1_epi8(0x0F));
    /* byte i: byte i / 8 of qh, all bits but bit i % 8 set: all ones exactly where bit i of qh is set */
    __m256i h = _mm256_shuffle_epi8(_mm256_set1_epi32((int) qh),
                                    _mm256_set_epi64x(0x0303030303030303LL, 0x0202020202020202LL,
                                                      0x0101010101010101LL, 0));
    h = _mm256_or_si256(h, _mm256_set1_epi64x(0x7FBFDFEFF7FBFDFELL));
    __m256i set = _mm256_cmpeq_epi8(h, _mm256_set1_epi64x(-1));
    /* fifth bit clear: the nibble - 16 (0xF0 | nibble as a signed byte); set: the nibble */
    return _mm256_or_si256(nib, _mm256_andnot_si256(set, _mm256_set1_epi8((char) 0xF0)));
}

/* q50_quants with AVX-512 BW/VL: the fifth bits as a mask register, the nibbles less 16 where a bit is clear. */
static inline __attribute__((always_inline)) T_AVX512 __m256i q50_quants_avx512(const uint8_t *b) {
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    __m128i lo = _mm_loadu_si128((const __m128i *) (b + 6));
    __m256i nib = _mm256_and_si256(_mm256_insertf128_si256(_mm256_castsi128_si256(lo), _mm_srli_epi16(lo, 4), 1),
                                   _mm256_set1_epi8(0x0F));
    return _mm256_mask_sub_epi8(nib, (__mmask32) ~qh, nib, _mm256_set1_epi8(16));
}

/* A cache-line hint for the rows ahead, and the even and odd accumulators added, then summed (q50_hsum). */
#define Q50_PREFETCH_X86(p) _mm_prefetch((const char *) (p), _MM_HINT_T0)
#define Q50_FINISH_256(e, o) q50_hsum(_mm256_add_ps(e, o))

static inline T_AVX2 float q50_hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __attribute__((always_inline)) T_AVX2 __m256i q50_dot_avx2(__m256i u, __m256i s) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(u, s), _mm256_set1_epi16(1));
}

#ifdef AMULET_AVXVNNI
static inline __attribute__((always_inline)) T_AVXVNNI __m256i q50_dot_avxvnni(__m256i u, __m256i s) {
    return _mm256_dpbusd_avx_epi32(_mm256_setzero_si256(), u, s);
}
#endif

static inline __attribute__((always_inline)) T_AVX512 __m256i q50_dot_avx512(__m256i u, __m256i s) {
    return _mm256_dpbusd_epi32(_mm256_setzero_si256(), u, s);
}

/*
 * One body per variant: DOT is the unsigned x signed byte dot product into 8 int32 lanes, QUANTS the unpacking of a
 * block's signed quants, T the target attribute. Each block's weights unpacked once for the tile's columns, the
 * signed product taken as |w| times x with w's sign.
 */
#define Q50_256(NAME, T, DOT, QUANTS)                                                                                 \
    static inline __attribute__((always_inline)) T void NAME##_block(const uint8_t *b, const int8_t *x0,              \
                                                                     const int8_t *x1, float d0, float d1, int n,     \
                                                                     __m256 *a0, __m256 *a1) {                        \
        __m256i v = QUANTS(b);                                                                                        \
        __m256i av = _mm256_sign_epi8(v, v);                                                                          \
        float dw = _cvtsh_ss((unsigned short) (b[0] | b[1] << 8));                                                    \
        __m256i s0 = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *) x0), v);                                   \
        *a0 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(DOT(av, s0)), _mm256_set1_ps(dw * d0), *a0);                         \
        if (n == 2) {                                                                                                 \
            __m256i s1 = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *) x1), v);                               \
            *a1 = _mm256_fmadd_ps(_mm256_cvtepi32_ps(DOT(av, s1)), _mm256_set1_ps(dw * d1), *a1);                     \
        }                                                                                                             \
    }                                                                                                                 \
    Q50_ROWS(NAME, T, __m256, _mm256_setzero_ps(), Q50_PREFETCH_X86, Q50_FINISH_256)

Q50_256(q50_avx2, T_AVX2, q50_dot_avx2, q50_quants)
#ifdef AMULET_AVXVNNI
Q50_256(q50_avxvnni, T_AVXVNNI, q50_dot_avxvnni, q50_quants)
#endif

/*
 * q50_hsum of eight rows' vectors v[0..7] at once, row i's sum in lane i: the 8 x 8 transposed, then lane by lane
 * ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), the operations of q50_hsum in its order, so the same bits,
 * without a horizontal chain of dependent adds for every row.
 */
static inline __attribute__((always_inline)) T_AVX2 __m256 q50_hsum8(const __m256 *v) {
    __m256 t0 = _mm256_unpacklo_ps(v[0], v[1]), t1 = _mm256_unpackhi_ps(v[0], v[1]);
    __m256 t2 = _mm256_unpacklo_ps(v[2], v[3]), t3 = _mm256_unpackhi_ps(v[2], v[3]);
    __m256 t4 = _mm256_unpacklo_ps(v[4], v[5]), t5 = _mm256_unpackhi_ps(v[4], v[5]);
    __m256 t6 = _mm256_unpacklo_ps(v[6], v[7]), t7 = _mm256_unpackhi_ps(v[6], v[7]);
    /* u0: lane 0 of rows 0-3, then lane 4; u1: lanes 1 and 5; u2: 2 and 6; u3: 3 and 7 (u4-u7: rows 4-7) */
    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
    __m256 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE);
    __m256 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    /* c_j: lane j of rows 0-7 */
    __m256 c0 = _mm256_permute2f128_ps(u0, u4, 0x20), c4 = _mm256_permute2f128_ps(u0, u4, 0x31);
    __m256 c1 = _mm256_permute2f128_ps(u1, u5, 0x20), c5 = _mm256_permute2f128_ps(u1, u5, 0x31);
    __m256 c2 = _mm256_permute2f128_ps(u2, u6, 0x20), c6 = _mm256_permute2f128_ps(u2, u6, 0x31);
    __m256 c3 = _mm256_permute2f128_ps(u3, u7, 0x20), c7 = _mm256_permute2f128_ps(u3, u7, 0x31);
    return _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(c0, c4), _mm256_add_ps(c2, c6)),
                         _mm256_add_ps(_mm256_add_ps(c1, c5), _mm256_add_ps(c3, c7)));
}

/* The accumulators' even half (lanes 0-7) with a last even block's step added, plus the odd half (not yet summed). */
static inline __attribute__((always_inline)) T_AVX512 __m256 q50_halves512(__m512 acc, const uint8_t *tail,
                                                                            const int8_t *x, float s) {
    __m256 even = _mm512_castps512_ps256(acc);
    __m256 odd = _mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1));
    if (tail) {
        __m256i v = q50_quants_avx512(tail);
        __m256i sx = _mm256_sign_epi8(_mm256_loadu_si256((const __m256i *) x), v);
        even = _mm256_fmadd_ps(_mm256_cvtepi32_ps(q50_dot_avx512(_mm256_sign_epi8(v, v), sx)), _mm256_set1_ps(s),
                               even);
    }
    return _mm256_add_ps(even, odd);
}

/* Blocks b and b + 1 as 64 unsigned quants q (0..31, the weight is q - 16): block b's 32 in element order, then b + 1's. */
static inline __attribute__((always_inline)) T_AVX512 __m512i q50_pair_quants_u(const uint8_t *b) {
    uint32_t h0, h1;
    memcpy(&h0, b + 2, 4);
    memcpy(&h1, b + Q5_BYTES + 2, 4);
    __m256i raw = _mm256_inserti128_si256(_mm256_castsi128_si256(_mm_loadu_si128((const __m128i *) (b + 6))),
                                          _mm_loadu_si128((const __m128i *) (b + Q5_BYTES + 6)), 1);
    __m512i t = _mm512_inserti64x4(_mm512_castsi256_si512(raw), _mm256_srli_epi16(raw, 4), 1);
    /* 128-bit lanes 0, 2, 1, 3: block b's low nibbles, its high ones, then block b + 1's */
    t = _mm512_shuffle_i64x2(t, t, 0xD8);
    __m512i nib = _mm512_and_si512(t, _mm512_set1_epi8(0x0F));
    __mmask64 high = (__mmask64) ((uint64_t) h0 | (uint64_t) h1 << 32);
    return _mm512_mask_add_epi8(nib, high, nib, _mm512_set1_epi8(16));
}

/* Pairs of blocks a row block's rows share one column's data for (4,096 weights; 16 KiB on the stack for two columns). */
#define Q5_CHUNK_PAIRS 64

/*
 * AVX-512 VNNI: two blocks a 512-bit register, even blocks in the low 8 lanes and odd ones in the high 8. The signed
 * products are taken as the unsigned quants q times x plus -16 x the sums of four activations (vpdpbusd from that
 * start: the same int32 sums as |w| times x with w's sign), and what belongs to a column alone is computed once for
 * all the rows of a call: those -16 x sums and the activation scales in the lanes of the pairs, for up to
 * Q5_CHUNK_PAIRS pairs at a time (longer rows pass over their pieces in turn, each row's float32 accumulators carried
 * from piece to piece). Every (row, column) thus runs the same float32 operations on the same integers as before.
 */
static inline __attribute__((always_inline)) T_AVX512 void q50_avx512vnni_t(
        const int n, const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd, int colBlocks, float *y,
        int yStride, int add) {
    const int8_t *xc[2] = {xq, xq + (size_t) colBlocks * Q5_QK};
    const float *dc[2] = {xd, xd + colBlocks};
    const size_t rowBytes = (size_t) blocks * Q5_BYTES;
    const int pairs = blocks & ~1;
    const int npairs = pairs / 2;
    const int chunks = npairs ? (npairs + Q5_CHUNK_PAIRS - 1) / Q5_CHUNK_PAIRS : 1;
    const __m512i sixteen = _mm512_set1_epi8(16);
    __m512i bias[2][Q5_CHUNK_PAIRS];
    __m512 scale[2][Q5_CHUNK_PAIRS];
    __m512 carried[Q5_ROW_BLOCK][2];
    __m256 pending[2][8];
    for (int r0 = 0; r0 < rows; r0 += Q5_ROW_BLOCK) {
        const int g = rows - r0 < Q5_ROW_BLOCK ? rows - r0 : Q5_ROW_BLOCK;
        for (int ci = 0; ci < chunks; ci++) {
            const int p0 = ci * Q5_CHUNK_PAIRS;
            const int p1 = npairs - p0 < Q5_CHUNK_PAIRS ? npairs : p0 + Q5_CHUNK_PAIRS;
            for (int c = 0; c < n; c++) {
                for (int p = p0; p < p1; p++) {
                    __m512i xv = _mm512_loadu_si512((const void *) (xc[c] + (size_t) 2 * p * Q5_QK));
                    bias[c][p - p0] = _mm512_sub_epi32(_mm512_setzero_si512(),
                                                       _mm512_dpbusd_epi32(_mm512_setzero_si512(), sixteen, xv));
                    scale[c][p - p0] = _mm512_mask_blend_ps((__mmask16) 0xFF00, _mm512_set1_ps(dc[c][2 * p]),
                                                            _mm512_set1_ps(dc[c][2 * p + 1]));
                }
            }
            for (int rr = 0; rr < g; rr++) {
                const int r = r0 + rr;
                const uint8_t *wr = w + (size_t) r * rowBytes;
                __m512 a[2];
                if (ci == 0) {
                    for (size_t o = 0; o < rowBytes; o += 64) {
                        _mm_prefetch((const char *) wr + Q5_PREFETCH_ROWS * rowBytes + o, _MM_HINT_T0);
                    }
                    a[0] = a[1] = _mm512_setzero_ps();
                } else {
                    a[0] = carried[rr][0];
                    a[1] = carried[rr][1];
                }
                for (int p = p0; p < p1; p++) {
                    const uint8_t *b = wr + (size_t) 2 * p * Q5_BYTES;
                    __m512i v = q50_pair_quants_u(b);
                    float dw0 = _cvtsh_ss((unsigned short) (b[0] | b[1] << 8));
                    float dw1 = _cvtsh_ss((unsigned short) (b[Q5_BYTES] | b[Q5_BYTES + 1] << 8));
                    __m512 dw = _mm512_mask_blend_ps((__mmask16) 0xFF00, _mm512_set1_ps(dw0), _mm512_set1_ps(dw1));
                    for (int c = 0; c < n; c++) {
                        __m512i d = _mm512_dpbusd_epi32(bias[c][p - p0], v,
                                _mm512_loadu_si512((const void *) (xc[c] + (size_t) 2 * p * Q5_QK)));
                        a[c] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(d), _mm512_mul_ps(dw, scale[c][p - p0]), a[c]);
                    }
                }
                if (ci + 1 < chunks) {
                    carried[rr][0] = a[0];
                    carried[rr][1] = a[1];
                    continue;
                }
                const uint8_t *tail = pairs < blocks ? wr + (size_t) pairs * Q5_BYTES : NULL;
                float dt = tail ? _cvtsh_ss((unsigned short) (tail[0] | tail[1] << 8)) : 0.0f;
                /* eight rows' sums at a time (q50_hsum8), the rows of a row block left over one by one */
                for (int c = 0; c < n; c++) {
                    pending[c][rr & 7] = q50_halves512(a[c], tail, xc[c] + pairs * Q5_QK,
                                                       tail ? dt * dc[c][pairs] : 0.0f);
                }
                if ((rr & 7) == 7) {
                    for (int c = 0; c < n; c++) {
                        float *p = y + (size_t) c * yStride + (r - 7);
                        __m256 sums = q50_hsum8(pending[c]);
                        _mm256_storeu_ps(p, add ? _mm256_add_ps(_mm256_loadu_ps(p), sums) : sums);
                    }
                }
            }
            if (ci + 1 == chunks) {
                for (int rr = g & ~7; rr < g; rr++) {
                    for (int c = 0; c < n; c++) {
                        q50_store(y, yStride, r0 + rr, c, q50_hsum(pending[c][rr & 7]), add);
                    }
                }
            }
        }
    }
}

static T_AVX512 void q50_avx512vnni(const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd,
                                    int colBlocks, int n, float *y, int yStride, int add) {
    if (n == 2) {
        q50_avx512vnni_t(2, w, rows, blocks, xq, xd, colBlocks, y, yStride, add);
    } else {
        q50_avx512vnni_t(1, w, rows, blocks, xq, xd, colBlocks, y, yStride, add);
    }
}
#endif /* AMULET_X86 */

#ifdef AMULET_ARM
/* ---------------------------------------------------------------- aarch64 NEON, with and without sdot */

/* A block's signed quants q - 16 in element order: w0 elements 0..15, w1 16..31 (fifth bit j of qh for element j). */
static inline __attribute__((always_inline)) void q50_quants_neon(const uint8_t *b, int8x16_t *w0, int8x16_t *w1) {
    static const uint8_t bit[16] = {1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128};
    uint32_t qh;
    memcpy(&qh, b + 2, 4);
    uint8x16_t nib = vld1q_u8(b + 6);
    uint8x16_t bits = vld1q_u8(bit), five = vdupq_n_u8(0x10);
    uint8x16_t h0 = vcombine_u8(vdup_n_u8((uint8_t) qh), vdup_n_u8((uint8_t) (qh >> 8)));
    uint8x16_t h1 = vcombine_u8(vdup_n_u8((uint8_t) (qh >> 16)), vdup_n_u8((uint8_t) (qh >> 24)));
    uint8x16_t u0 = vorrq_u8(vandq_u8(nib, vdupq_n_u8(0x0F)), vandq_u8(vtstq_u8(h0, bits), five));
    uint8x16_t u1 = vorrq_u8(vshrq_n_u8(nib, 4), vandq_u8(vtstq_u8(h1, bits), five));
    *w0 = vsubq_s8(vreinterpretq_s8_u8(u0), vdupq_n_s8(16));
    *w1 = vsubq_s8(vreinterpretq_s8_u8(u1), vdupq_n_s8(16));
}

/* The 8 lanes of a NEON accumulator: lanes 0-3 and 4-7. */
typedef struct {
    float32x4_t lo, hi;
} q50_acc_neon;

#define Q50_ZERO_NEON ((q50_acc_neon) {vdupq_n_f32(0), vdupq_n_f32(0)})
#define Q50_FINISH_NEON(e, o) hsum8_neon(vaddq_f32((e).lo, (o).lo), vaddq_f32((e).hi, (o).hi))

/*
 * One body per NEON variant: DOT the 16-byte dot into 4 int32 lanes, T the target. Each block's weights unpacked once
 * for the tile's columns.
 */
#define Q50_NEON(NAME, T, DOT)                                                                                        \
    static inline __attribute__((always_inline)) T void NAME##_block(const uint8_t *b, const int8_t *x0,              \
                                                                     const int8_t *x1, float d0, float d1, int n,     \
                                                                     q50_acc_neon *a0, q50_acc_neon *a1) {            \
        int8x16_t v0, v1;                                                                                             \
        q50_quants_neon(b, &v0, &v1);                                                                                 \
        float dw = half_to_float((uint16_t) (b[0] | b[1] << 8));                                                      \
        float32x4_t f0 = vdupq_n_f32(dw * d0);                                                                        \
        a0->lo = vfmaq_f32(a0->lo, vcvtq_f32_s32(DOT(v0, vld1q_s8(x0))), f0);                                         \
        a0->hi = vfmaq_f32(a0->hi, vcvtq_f32_s32(DOT(v1, vld1q_s8(x0 + 16))), f0);                                    \
        if (n == 2) {                                                                                                 \
            float32x4_t f1 = vdupq_n_f32(dw * d1);                                                                    \
            a1->lo = vfmaq_f32(a1->lo, vcvtq_f32_s32(DOT(v0, vld1q_s8(x1))), f1);                                     \
            a1->hi = vfmaq_f32(a1->hi, vcvtq_f32_s32(DOT(v1, vld1q_s8(x1 + 16))), f1);                                \
        }                                                                                                             \
    }                                                                                                                 \
    Q50_ROWS(NAME, T, q50_acc_neon, Q50_ZERO_NEON, __builtin_prefetch, Q50_FINISH_NEON)

Q50_NEON(q50_neon, , dot16_neon)
#ifdef AMULET_DOTPROD
Q50_NEON(q50_dotprod, T_DOTPROD, dot16_dotprod)
#endif
#endif /* AMULET_ARM */

/* ---------------------------------------------------------------- dispatch */

static int q50_supported = -1;
static int q50_current = Q5V_SCALAR;

static void q50_init(void) {
    if (q50_supported >= 0) {
        return;
    }
    /* the int8 kernels' numbers: scalar, AVX2, AVX-VNNI, AVX-512 VNNI (aarch64: scalar, NEON, NEON with sdot) */
    int m = amulet_i8_supported();
    int best = Q5V_SCALAR;
    for (int v = Q5V_COUNT - 1; v > 0; v--) {
        if (m & (1 << v)) {
            best = v;
            break;
        }
    }
    q50_current = best;
    q50_supported = m;
}

static q50_fn q50_kernel(int v) {
    switch (v) {
#ifdef AMULET_X86
        case Q5V_AVX2: return q50_avx2;
#ifdef AMULET_AVXVNNI
        case Q5V_AVXVNNI: return q50_avxvnni;
#endif
        case Q5V_AVX512VNNI: return q50_avx512vnni;
#endif
#ifdef AMULET_ARM
        case Q5V_NEON: return q50_neon;
#ifdef AMULET_DOTPROD
        case Q5V_NEON_DOTPROD: return q50_dotprod;
#endif
#endif
        default: return q50_scalar;
    }
}

/*
 * Any number of columns: rows in blocks of Q5_ROW_BLOCK (their weights stay in L1) that every tile of Q5_TILE columns
 * passes over in turn. A column's result is the one it gets alone: each (row, column) runs the same operations.
 */
static void q50_product(int v, const uint8_t *w, int rows, int blocks, const int8_t *xq, const float *xd,
                        int colBlocks, int n, float *y, int yStride, int add) {
    q50_fn f = q50_kernel(v);
    const size_t rowBytes = (size_t) blocks * Q5_BYTES;
    for (int r = 0; r < rows; r += Q5_ROW_BLOCK) {
        int count = rows - r < Q5_ROW_BLOCK ? rows - r : Q5_ROW_BLOCK;
        for (int c = 0; c < n; c += Q5_TILE) {
            f(w + r * rowBytes, count, blocks, xq + (size_t) c * colBlocks * Q5_QK, xd + (size_t) c * colBlocks,
              colBlocks, n - c < Q5_TILE ? n - c : Q5_TILE, y + (size_t) c * yStride + r, yStride, add);
        }
    }
}

/* ---------------------------------------------------- JNI: io.github.amulet4j.transformer.weights.Q50Kernels */

#define Q5_JNI(name) Java_io_github_amulet4j_transformer_weights_Q50Kernels_##name

JNIEXPORT jint JNICALL Q5_JNI(supportedVariants)(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    q50_init();
    return q50_supported;
}

JNIEXPORT jint JNICALL Q5_JNI(variant)(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    q50_init();
    return q50_current;
}

/* Selects variant v when this CPU supports it; returns the variant in use afterwards. */
JNIEXPORT jint JNICALL Q5_JNI(selectVariant)(JNIEnv *env, jclass cls, jint v) {
    (void) env; (void) cls;
    q50_init();
    if (v >= 0 && v < Q5V_COUNT && (q50_supported & (1 << v))) {
        q50_current = v;
    }
    return q50_current;
}

JNIEXPORT jstring JNICALL Q5_JNI(variantName)(JNIEnv *env, jclass cls, jint v) {
    (void) cls;
    return (*env)->NewStringUTF(env, amulet_i8_name(v));
}

/*
 * Rows [0, rows) of a slab from byte wOff of w (blocks a row) times n (any number) columns quantized per block of 32
 * (colBlocks blocks a column); y[yOff + c * yStride + r] stored or (add) added to. Java checks the bounds.
 */
JNIEXPORT void JNICALL Q5_JNI(product)(JNIEnv *env, jclass cls, jbyteArray w, jint wOff, jint rows, jint blocks,
                                        jbyteArray xq, jfloatArray xd, jint colBlocks, jint n, jfloatArray y,
                                        jint yOff, jint yStride, jboolean add) {
    (void) cls;
    q50_init();
    uint8_t *pw = (*env)->GetPrimitiveArrayCritical(env, w, NULL);
    int8_t *pq = (*env)->GetPrimitiveArrayCritical(env, xq, NULL);
    float *pd = (*env)->GetPrimitiveArrayCritical(env, xd, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (pw && pq && pd && py) {
        q50_product(q50_current, pw + wOff, rows, blocks, pq, pd, colBlocks, n, py + yOff, yStride, add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (pd) (*env)->ReleasePrimitiveArrayCritical(env, xd, pd, JNI_ABORT);
    if (pq) (*env)->ReleasePrimitiveArrayCritical(env, xq, pq, JNI_ABORT);
    if (pw) (*env)->ReleasePrimitiveArrayCritical(env, w, pw, JNI_ABORT);
}

/* As product, on weights off the Java heap: w is the address of the first row (a NativeSlab's). */
JNIEXPORT void JNICALL Q5_JNI(productAt)(JNIEnv *env, jclass cls, jlong w, jint rows, jint blocks, jbyteArray xq,
                                          jfloatArray xd, jint colBlocks, jint n, jfloatArray y, jint yOff,
                                          jint yStride, jboolean add) {
    (void) cls;
    q50_init();
    int8_t *pq = (*env)->GetPrimitiveArrayCritical(env, xq, NULL);
    float *pd = (*env)->GetPrimitiveArrayCritical(env, xd, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (pq && pd && py) {
        q50_product(q50_current, (const uint8_t *) (intptr_t) w, rows, blocks, pq, pd, colBlocks, n, py + yOff,
                    yStride, add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (pd) (*env)->ReleasePrimitiveArrayCritical(env, xd, pd, JNI_ABORT);
    if (pq) (*env)->ReleasePrimitiveArrayCritical(env, xq, pq, JNI_ABORT);
}
