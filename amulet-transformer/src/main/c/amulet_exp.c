/*
 * Loops on the float exp (issues 24, 26, 28): the softmax's a[i] = exp(a[i] - shift) over a row of attention scores
 * and their sum, SiLU (x / (exp(-x) + 1)) and GELU-tanh (x / (exp(t) + 1), t = (x^3 * 0.044715 + x) * -2 sqrt(2/pi)),
 * the same float arithmetic as the Java fallback (VectorOps.exp, expShiftedJava, siluJava, geluTanhJava in
 * amulet-transformer), operation for operation, so a value has the same bits with or without this library:
 *
 *   c = clamp(x, -87.33654, 88); kr = c * log2(e) + 1.5 * 2^23 (two roundings, never fused); k = kr - 1.5 * 2^23;
 *   r = fma(k, -ln2_hi, c); r = fma(k, -ln2_lo, r); p = Cephes' degree-5 polynomial by fma;
 *   e = (p * (r * r) + r + 1) * 2^k, 2^k from kr's bits: (bits(kr) + 127 - 0x4B400000) << 23;
 *   sum: four partial sums, s_j over i = j (mod 4) in order, the tail into s_0, then (s_0 + s_1) + (s_2 + s_3).
 *
 * Vectors of 16 (AVX-512F) or 8 (AVX2 with FMA) lanes for the exponentials, masked or one by one for the tail; the sum
 * in four SSE lanes, which are the four partial sums. On aarch64 the same operations on NEON's 4 lanes (variant 1,
 * every aarch64 CPU: fmla is fused as vfmadd, fdiv rounds as vdivps), the sum in the 4 lanes of one vector. Built with -std=c11, so the compiler does not contract a
 * multiply and an add into an fma (NativeExpTest checks every bit against the Java code). No scalar variant: without
 * AVX2 and FMA the Java code runs.
 */
#include <jni.h>
#include <stdint.h>
#include <string.h>

#include "amulet_exp.h"

#define EXP_MIN (-87.33654f)
#define EXP_MAX 88.0f
#define LOG2E 1.44269504f
#define ROUND 12582912.0f
#define EXP_BIAS (127 - 0x4B400000)
#define LN2_HI 0.693359375f
#define LN2_LO (-2.12194440e-4f)
#define P0 1.9875691500e-4f
#define P1 1.3981999507e-3f
#define P2 8.3334519073e-3f
#define P3 4.1665795894e-2f
#define P4 1.6666665459e-1f
#define P5 5.0000001201e-1f
#define GELU_CUBIC 0.044715f
/* (float) (-2 * sqrt(2 / pi)), as the Java code rounds it */
#define GELU_NEG_2C (-1.5957691669464111f)

#if defined(__x86_64__) || defined(_M_X64)
#define EXP_X86 1
#define EXP_SIMD 1
#include <immintrin.h>


/* The four partial sums of the Java code over a[0, n) (the exponentials already in place). */
__attribute__((target("sse2")))
static float sum4(const float *a, int n) {
    __m128 acc = _mm_setzero_ps();
    int i = 0;
    for (; i <= n - 4; i += 4) {
        acc = _mm_add_ps(acc, _mm_loadu_ps(a + i));
    }
    float s[4];
    _mm_storeu_ps(s, acc);
    for (; i < n; i++) {
        s[0] += a[i];
    }
    return (s[0] + s[1]) + (s[2] + s[3]);
}

__attribute__((target("avx512f")))
static __m512 exp16(__m512 x) {
    __m512 c = _mm512_min_ps(_mm512_set1_ps(EXP_MAX), _mm512_max_ps(_mm512_set1_ps(EXP_MIN), x));
    __m512 kr = _mm512_add_ps(_mm512_mul_ps(c, _mm512_set1_ps(LOG2E)), _mm512_set1_ps(ROUND));
    __m512 k = _mm512_sub_ps(kr, _mm512_set1_ps(ROUND));
    __m512 r = _mm512_fmadd_ps(k, _mm512_set1_ps(-LN2_HI), c);
    r = _mm512_fmadd_ps(k, _mm512_set1_ps(-LN2_LO), r);
    __m512 p = _mm512_fmadd_ps(r, _mm512_set1_ps(P0), _mm512_set1_ps(P1));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P2));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P3));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P4));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(P5));
    p = _mm512_mul_ps(p, _mm512_mul_ps(r, r));
    p = _mm512_add_ps(p, r);
    p = _mm512_add_ps(p, _mm512_set1_ps(1.0f));
    __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_castps_si512(kr), _mm512_set1_epi32(EXP_BIAS)), 23);
    return _mm512_mul_ps(p, _mm512_castsi512_ps(bits));
}

__attribute__((target("avx512f")))
static void exp_avx512(float *a, int n, float shift) {
    __m512 sh = _mm512_set1_ps(shift);
    int i = 0;
    for (; i <= n - 16; i += 16) {
        _mm512_storeu_ps(a + i, exp16(_mm512_sub_ps(_mm512_loadu_ps(a + i), sh)));
    }
    if (i < n) {
        __mmask16 m = (__mmask16) ((1u << (n - i)) - 1);
        __m512 x = _mm512_sub_ps(_mm512_maskz_loadu_ps(m, a + i), sh);
        _mm512_mask_storeu_ps(a + i, m, exp16(x));
    }
}

__attribute__((target("avx2,fma")))
static __m256 exp8(__m256 x) {
    __m256 c = _mm256_min_ps(_mm256_set1_ps(EXP_MAX), _mm256_max_ps(_mm256_set1_ps(EXP_MIN), x));
    __m256 kr = _mm256_add_ps(_mm256_mul_ps(c, _mm256_set1_ps(LOG2E)), _mm256_set1_ps(ROUND));
    __m256 k = _mm256_sub_ps(kr, _mm256_set1_ps(ROUND));
    __m256 r = _mm256_fmadd_ps(k, _mm256_set1_ps(-LN2_HI), c);
    r = _mm256_fmadd_ps(k, _mm256_set1_ps(-LN2_LO), r);
    __m256 p = _mm256_fmadd_ps(r, _mm256_set1_ps(P0), _mm256_set1_ps(P1));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P2));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P3));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P4));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(P5));
    p = _mm256_mul_ps(p, _mm256_mul_ps(r, r));
    p = _mm256_add_ps(p, r);
    p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
    __m256i bits = _mm256_slli_epi32(_mm256_add_epi32(_mm256_castps_si256(kr), _mm256_set1_epi32(EXP_BIAS)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(bits));
}

__attribute__((target("avx2,fma")))
static void exp_avx2(float *a, int n, float shift) {
    __m256 sh = _mm256_set1_ps(shift);
    int i = 0;
    for (; i <= n - 8; i += 8) {
        _mm256_storeu_ps(a + i, exp8(_mm256_sub_ps(_mm256_loadu_ps(a + i), sh)));
    }
    if (i < n) {
        /* the tail through a buffer of 8: the same lanes' arithmetic as above */
        float t[8] = {0};
        memcpy(t, a + i, (size_t) (n - i) * sizeof(float));
        _mm256_storeu_ps(t, exp8(_mm256_sub_ps(_mm256_loadu_ps(t), sh)));
        memcpy(a + i, t, (size_t) (n - i) * sizeof(float));
    }
}

/* what = 0: SiLU, 1: GELU-tanh, in place over a[0, n) */
__attribute__((target("avx512f")))
static __m512 act16(__m512 x, int what) {
    __m512 t;
    if (what == 0) {
        t = _mm512_castsi512_ps(_mm512_xor_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int) 0x80000000)));
    } else {
        t = _mm512_mul_ps(_mm512_mul_ps(_mm512_mul_ps(x, x), x), _mm512_set1_ps(GELU_CUBIC));
        t = _mm512_mul_ps(_mm512_add_ps(t, x), _mm512_set1_ps(GELU_NEG_2C));
    }
    return _mm512_div_ps(x, _mm512_add_ps(exp16(t), _mm512_set1_ps(1.0f)));
}

__attribute__((target("avx512f")))
static void act_avx512(float *a, int n, int what) {
    int i = 0;
    for (; i <= n - 16; i += 16) {
        _mm512_storeu_ps(a + i, act16(_mm512_loadu_ps(a + i), what));
    }
    if (i < n) {
        __mmask16 m = (__mmask16) ((1u << (n - i)) - 1);
        _mm512_mask_storeu_ps(a + i, m, act16(_mm512_maskz_loadu_ps(m, a + i), what));
    }
}

/* dst[i] = act(src[i]) * mul[i] (the gated MLP's activation times its up half), with act16's bits */
__attribute__((target("avx512f")))
static void act_times_avx512(const float *src, const float *mul, float *dst, int n, int what) {
    int i = 0;
    for (; i <= n - 16; i += 16) {
        _mm512_storeu_ps(dst + i, _mm512_mul_ps(act16(_mm512_loadu_ps(src + i), what), _mm512_loadu_ps(mul + i)));
    }
    if (i < n) {
        __mmask16 m = (__mmask16) ((1u << (n - i)) - 1);
        __m512 a = act16(_mm512_maskz_loadu_ps(m, src + i), what);
        _mm512_mask_storeu_ps(dst + i, m, _mm512_mul_ps(a, _mm512_maskz_loadu_ps(m, mul + i)));
    }
}

__attribute__((target("avx2,fma")))
static __m256 act8(__m256 x, int what) {
    __m256 t;
    if (what == 0) {
        t = _mm256_castsi256_ps(_mm256_xor_si256(_mm256_castps_si256(x), _mm256_set1_epi32((int) 0x80000000)));
    } else {
        t = _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(x, x), x), _mm256_set1_ps(GELU_CUBIC));
        t = _mm256_mul_ps(_mm256_add_ps(t, x), _mm256_set1_ps(GELU_NEG_2C));
    }
    return _mm256_div_ps(x, _mm256_add_ps(exp8(t), _mm256_set1_ps(1.0f)));
}

__attribute__((target("avx2,fma")))
static void act_avx2(float *a, int n, int what) {
    int i = 0;
    for (; i <= n - 8; i += 8) {
        _mm256_storeu_ps(a + i, act8(_mm256_loadu_ps(a + i), what));
    }
    if (i < n) {
        float t[8] = {0};
        memcpy(t, a + i, (size_t) (n - i) * sizeof(float));
        _mm256_storeu_ps(t, act8(_mm256_loadu_ps(t), what));
        memcpy(a + i, t, (size_t) (n - i) * sizeof(float));
    }
}

__attribute__((target("avx2,fma")))
static void act_times_avx2(const float *src, const float *mul, float *dst, int n, int what) {
    int i = 0;
    for (; i <= n - 8; i += 8) {
        _mm256_storeu_ps(dst + i, _mm256_mul_ps(act8(_mm256_loadu_ps(src + i), what), _mm256_loadu_ps(mul + i)));
    }
    if (i < n) {
        float t[8] = {0};
        float u[8] = {0};
        memcpy(t, src + i, (size_t) (n - i) * sizeof(float));
        memcpy(u, mul + i, (size_t) (n - i) * sizeof(float));
        _mm256_storeu_ps(t, _mm256_mul_ps(act8(_mm256_loadu_ps(t), what), _mm256_loadu_ps(u)));
        memcpy(dst + i, t, (size_t) (n - i) * sizeof(float));
    }
}

enum { S_NONE = 0, S_AVX2 = 1, S_AVX512 = 2 };
static int exp_variant = -1;

static int exp_init(void) {
    if (exp_variant < 0) {
        __builtin_cpu_init();
        int v = S_NONE;
        if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
            v = S_AVX2;
            if (__builtin_cpu_supports("avx512f")) {
                v = S_AVX512;
            }
        }
        exp_variant = v;
    }
    return exp_variant;
}
#elif defined(__aarch64__)
#define EXP_SIMD 1
#include <arm_neon.h>

/* exp8 of the x86 code on 4 lanes: the same operations in the same order (two roundings for kr, never fused). */
static float32x4_t exp4(float32x4_t x) {
    float32x4_t c = vminq_f32(vdupq_n_f32(EXP_MAX), vmaxq_f32(vdupq_n_f32(EXP_MIN), x));
    float32x4_t kr = vaddq_f32(vmulq_f32(c, vdupq_n_f32(LOG2E)), vdupq_n_f32(ROUND));
    float32x4_t k = vsubq_f32(kr, vdupq_n_f32(ROUND));
    float32x4_t r = vfmaq_f32(c, k, vdupq_n_f32(-LN2_HI));
    r = vfmaq_f32(r, k, vdupq_n_f32(-LN2_LO));
    float32x4_t p = vfmaq_f32(vdupq_n_f32(P1), r, vdupq_n_f32(P0));
    p = vfmaq_f32(vdupq_n_f32(P2), p, r);
    p = vfmaq_f32(vdupq_n_f32(P3), p, r);
    p = vfmaq_f32(vdupq_n_f32(P4), p, r);
    p = vfmaq_f32(vdupq_n_f32(P5), p, r);
    p = vmulq_f32(p, vmulq_f32(r, r));
    p = vaddq_f32(p, r);
    p = vaddq_f32(p, vdupq_n_f32(1.0f));
    int32x4_t bits = vshlq_n_s32(vaddq_s32(vreinterpretq_s32_f32(kr), vdupq_n_s32(EXP_BIAS)), 23);
    return vmulq_f32(p, vreinterpretq_f32_s32(bits));
}

static float32x4_t act4(float32x4_t x, int what) {
    float32x4_t t;
    if (what == 0) {
        t = vnegq_f32(x);
    } else {
        t = vmulq_f32(vmulq_f32(vmulq_f32(x, x), x), vdupq_n_f32(GELU_CUBIC));
        t = vmulq_f32(vaddq_f32(t, x), vdupq_n_f32(GELU_NEG_2C));
    }
    return vdivq_f32(x, vaddq_f32(exp4(t), vdupq_n_f32(1.0f)));
}

/* The four partial sums of the Java code: lane j of one vector is s_j. */
static float sum4(const float *a, int n) {
    float32x4_t acc = vdupq_n_f32(0);
    int i = 0;
    for (; i <= n - 4; i += 4) {
        acc = vaddq_f32(acc, vld1q_f32(a + i));
    }
    float s[4];
    vst1q_f32(s, acc);
    for (; i < n; i++) {
        s[0] += a[i];
    }
    return (s[0] + s[1]) + (s[2] + s[3]);
}

static void exp_neon(float *a, int n, float shift) {
    float32x4_t sh = vdupq_n_f32(shift);
    int i = 0;
    for (; i <= n - 4; i += 4) {
        vst1q_f32(a + i, exp4(vsubq_f32(vld1q_f32(a + i), sh)));
    }
    if (i < n) {
        float t[4] = {0};
        memcpy(t, a + i, (size_t) (n - i) * sizeof(float));
        vst1q_f32(t, exp4(vsubq_f32(vld1q_f32(t), sh)));
        memcpy(a + i, t, (size_t) (n - i) * sizeof(float));
    }
}

static void act_neon(float *a, int n, int what) {
    int i = 0;
    for (; i <= n - 4; i += 4) {
        vst1q_f32(a + i, act4(vld1q_f32(a + i), what));
    }
    if (i < n) {
        float t[4] = {0};
        memcpy(t, a + i, (size_t) (n - i) * sizeof(float));
        vst1q_f32(t, act4(vld1q_f32(t), what));
        memcpy(a + i, t, (size_t) (n - i) * sizeof(float));
    }
}

static void act_times_neon(const float *src, const float *mul, float *dst, int n, int what) {
    int i = 0;
    for (; i <= n - 4; i += 4) {
        vst1q_f32(dst + i, vmulq_f32(act4(vld1q_f32(src + i), what), vld1q_f32(mul + i)));
    }
    if (i < n) {
        float t[4] = {0};
        float u[4] = {0};
        memcpy(t, src + i, (size_t) (n - i) * sizeof(float));
        memcpy(u, mul + i, (size_t) (n - i) * sizeof(float));
        vst1q_f32(t, vmulq_f32(act4(vld1q_f32(t), what), vld1q_f32(u)));
        memcpy(dst + i, t, (size_t) (n - i) * sizeof(float));
    }
}

enum { S_NONE = 0, S_NEON = 1 };
/* NEON is part of every aarch64 CPU; selectVariant may still turn it off (0) for tests */
static int exp_variant = -1;

static int exp_init(void) {
    if (exp_variant < 0) {
        exp_variant = S_NEON;
    }
    return exp_variant;
}
#endif

/*
 * For amulet_attention.c (amulet_exp.h): row[0, n) = exp(row - shift) and their sum, as EXP_JNI(expShifted) computes
 * them; only called where amulet_exp_variant() says a variant runs.
 */
#ifdef EXP_SIMD
int amulet_exp_variant(void) {
    return exp_init();
}

float amulet_exp_shifted(float *row, int n, float shift) {
#ifdef EXP_X86
    if (exp_init() == S_AVX512) {
        exp_avx512(row, n, shift);
    } else {
        exp_avx2(row, n, shift);
    }
#else
    exp_neon(row, n, shift);
#endif
    return sum4(row, n);
}
#else
int amulet_exp_variant(void) {
    return 0;
}

float amulet_exp_shifted(float *row, int n, float shift) {
    (void) row; (void) n; (void) shift;
    return 0.0f;
}
#endif

#define EXP_JNI(name) Java_io_github_amulet4j_transformer_NativeExp_##name

/* The variant in use: 0 none (the Java code runs), 1 AVX2 with FMA (aarch64: NEON), 2 AVX-512F. */
JNIEXPORT jint JNICALL EXP_JNI(variant)(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
#ifdef EXP_SIMD
    return exp_init();
#else
    return 0;
#endif
}

/* Selects variant v (1 or 2) where the CPU has it, for tests; returns the variant in use. */
JNIEXPORT jint JNICALL EXP_JNI(selectVariant)(JNIEnv *env, jclass cls, jint v) {
    (void) env; (void) cls;
#if defined(EXP_X86)
    exp_variant = -1;
    int best = exp_init();
    if (v >= S_AVX2 && v <= best) {
        exp_variant = v;
    }
    return exp_variant;
#elif defined(EXP_SIMD)
    exp_variant = v == S_NEON ? S_NEON : -1;
    return exp_init();
#else
    (void) v;
    return 0;
#endif
}

/* a[off, off + n) = exp(a - shift); returns their sum (see the top of this file). */
JNIEXPORT jfloat JNICALL EXP_JNI(expShifted)(JNIEnv *env, jclass cls, jfloatArray a, jint off, jint n,
                                                 jfloat shift) {
    (void) cls;
#ifdef EXP_SIMD
    float *pa = (*env)->GetPrimitiveArrayCritical(env, a, NULL);
    if (pa == NULL) {
        return 0.0f;
    }
    float s = amulet_exp_shifted(pa + off, n, shift);
    (*env)->ReleasePrimitiveArrayCritical(env, a, pa, 0);
    return s;
#else
    (void) env; (void) a; (void) off; (void) n; (void) shift;
    return 0.0f;
#endif
}

/* a[off, off + n) = silu(a) (what 0) or gelu_tanh(a) (what 1), in place. */
JNIEXPORT void JNICALL EXP_JNI(activate)(JNIEnv *env, jclass cls, jint what, jfloatArray a, jint off, jint n) {
    (void) cls;
#ifdef EXP_SIMD
    float *pa = (*env)->GetPrimitiveArrayCritical(env, a, NULL);
    if (pa == NULL) {
        return;
    }
#ifdef EXP_X86
    if (exp_init() == S_AVX512) {
        act_avx512(pa + off, n, what);
    } else {
        act_avx2(pa + off, n, what);
    }
#else
    act_neon(pa + off, n, what);
#endif
    (*env)->ReleasePrimitiveArrayCritical(env, a, pa, 0);
#else
    (void) env; (void) what; (void) a; (void) off; (void) n;
#endif
}

/*
 * dst[dstOff + i] = act(src[srcOff + i]) * src[mulOff + i] for i < n (what 0: SiLU, 1: GELU-tanh): a gated MLP's
 * activation of its gate half times its up half, as activate followed by the Java loop's product (the same bits).
 */
JNIEXPORT void JNICALL EXP_JNI(activateTimes)(JNIEnv *env, jclass cls, jint what, jfloatArray src, jint srcOff,
                                              jint mulOff, jfloatArray dst, jint dstOff, jint n) {
    (void) cls;
#ifdef EXP_SIMD
    float *ps = (*env)->GetPrimitiveArrayCritical(env, src, NULL);
    float *pd = ps == NULL ? NULL : (*env)->GetPrimitiveArrayCritical(env, dst, NULL);
    if (pd != NULL) {
#ifdef EXP_X86
        if (exp_init() == S_AVX512) {
            act_times_avx512(ps + srcOff, ps + mulOff, pd + dstOff, n, what);
        } else {
            act_times_avx2(ps + srcOff, ps + mulOff, pd + dstOff, n, what);
        }
#else
        act_times_neon(ps + srcOff, ps + mulOff, pd + dstOff, n, what);
#endif
        (*env)->ReleasePrimitiveArrayCritical(env, dst, pd, 0);
    }
    if (ps != NULL) {
        (*env)->ReleasePrimitiveArrayCritical(env, src, ps, JNI_ABORT);
    }
#else
    (void) env; (void) what; (void) src; (void) srcOff; (void) mulOff; (void) dst; (void) dstOff; (void) n;
#endif
}
