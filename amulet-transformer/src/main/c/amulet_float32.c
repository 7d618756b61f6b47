/*
 * Native kernels for float32 weights (issue 26): rows of F32 weights times any number of float32 activation columns,
 * so that an F32 checkpoint's matrices can live off the Java heap beside the other formats' (the Java kernels read
 * heap arrays only). Two columns at a time share each weight load; every column is summed by the same instructions
 * in the same order whatever the columns beside it, so its result is bit for bit the one it gets alone.
 *
 * Variants: 0 scalar C, 1 AVX2 with FMA, 2 AVX-512F; the widest the CPU has is chosen at run time (never
 * -march=native). Each variant sums a row in its own order, so variants agree within float32 rounding, not in bits.
 * On aarch64: 0 scalar C, 1 NEON (every aarch64 CPU), which sums exactly as the AVX2 variant (8 lanes in two
 * float32x4, the same fused multiply-adds, the same reduction), so its results are AVX2's bits. The AVX2, AVX-512
 * and NEON variants are one body, amulet_float32_body.h, included once per vector type.
 *
 * Java side: io.github.amulet4j.transformer.weights.NativeFloat32Kernels.
 */
#include <jni.h>
#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define F32_X86 1
#include <immintrin.h>
#endif
#if defined(__aarch64__)
#define F32_ARM 1
#include "amulet_f32x8_neon.h"
#endif

enum { F_SCALAR = 0, F_AVX2 = 1, F_AVX512 = 2, F_COUNT = 3 };
#ifdef F32_ARM
enum { F_NEON = 1 };
static const char *const F32_NAMES[F_COUNT] = {"scalar", "neon", "none"};
#else
static const char *const F32_NAMES[F_COUNT] = {"scalar", "avx2", "avx512"};
#endif

static int f32_supported = -1;
static int f32_current = F_SCALAR;

static void f32_init(void) {
    if (f32_supported >= 0) {
        return;
    }
    int mask = 1 << F_SCALAR;
#ifdef F32_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        mask |= 1 << F_AVX2;
    }
    if (__builtin_cpu_supports("avx512f")) {
        mask |= 1 << F_AVX512;
    }
#endif
#ifdef F32_ARM
    mask |= 1 << F_NEON;
#endif
    f32_current = (mask & (1 << F_AVX512)) ? F_AVX512 : (mask & (1 << F_AVX2)) ? F_AVX2 : F_SCALAR;
    f32_supported = mask;
}

static inline void f32_store(float *y, float v, int add) {
    if (add) {
        *y += v;
    } else {
        *y = v;
    }
}

/* One row times one column: four partial sums over runs of four values, then the tail, then a fixed reduction. */
static inline float dot_scalar(const float *w, const float *x, int cols) {
    float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= cols; i += 4) {
        s0 += w[i] * x[i];
        s1 += w[i + 1] * x[i + 1];
        s2 += w[i + 2] * x[i + 2];
        s3 += w[i + 3] * x[i + 3];
    }
    for (; i < cols; i++) {
        s0 += w[i] * x[i];
    }
    return (s0 + s1) + (s2 + s3);
}

static void f32_scalar(const float *w, int rows, int cols, const float *x, int xStride, int n, float *y, int yStride,
                       int add) {
    for (int r = 0; r < rows; r++) {
        const float *wr = w + (size_t) r * cols;
        for (int c = 0; c < n; c++) {
            f32_store(y + (size_t) c * yStride + r, dot_scalar(wr, x + (size_t) c * xStride, cols), add);
        }
    }
}

#ifdef F32_X86
static inline __attribute__((target("avx2,fma"))) float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/* AVX2 (f32_row_avx2, f32_product_avx2): 8 lanes, the values after the runs of 8 one by one, no prefetch. */
#define FN(name) f32_##name##_avx2
#define TARGET __attribute__((target("avx2,fma")))
#define VT __m256
#define VW 8
#define VZERO() _mm256_setzero_ps()
#define VLOAD(p) _mm256_loadu_ps(p)
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUM(v) hsum8(v)
#include "amulet_float32_body.h"

/* AVX-512F: 16 lanes, the values after the runs of 16 in one masked step, the next row prefetched. */
#define FN(name) f32_##name##_avx512
#define TARGET __attribute__((target("avx512f")))
#define VT __m512
#define VW 16
#define VZERO() _mm512_setzero_ps()
#define VLOAD(p) _mm512_loadu_ps(p)
#define VLOADN(p, n) _mm512_maskz_loadu_ps((__mmask16) ((1u << (n)) - 1), (p))
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VSUM(v) _mm512_reduce_add_ps(v)
#define VPREFETCH(p) _mm_prefetch((const char *) (p), _MM_HINT_T0)
#include "amulet_float32_body.h"
#endif

#ifdef F32_ARM
/* The AVX2 variant on NEON: each __m256 as an f32x8 (two float32x4_t), so the same operations give the same bits. */
#define FN(name) f32_##name##_neon
#define TARGET
#define VT f32x8
#define VW 8
#define VZERO() f32x8_zero()
#define VLOAD(p) f32x8_load(p)
#define VFMA(a, b, c) f32x8_fma((a), (b), (c))
#define VADD(a, b) f32x8_add((a), (b))
#define VSUM(v) f32x8_sum(v)
#define VPREFETCH(p) __builtin_prefetch(p)
#include "amulet_float32_body.h"
#endif

static void f32_product_any(int v, const float *w, int rows, int cols, const float *x, int xStride, int n, float *y,
                            int yStride, int add) {
#ifdef F32_X86
    if (v == F_AVX512) {
        f32_product_avx512(w, rows, cols, x, xStride, n, y, yStride, add);
        return;
    }
    if (v == F_AVX2) {
        f32_product_avx2(w, rows, cols, x, xStride, n, y, yStride, add);
        return;
    }
#endif
#ifdef F32_ARM
    if (v == F_NEON) {
        f32_product_neon(w, rows, cols, x, xStride, n, y, yStride, add);
        return;
    }
#endif
    f32_scalar(w, rows, cols, x, xStride, n, y, yStride, add);
}

#define F32_JNI(name) Java_io_github_amulet4j_transformer_weights_NativeFloat32Kernels_##name

JNIEXPORT jint JNICALL F32_JNI(supportedVariants)(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    f32_init();
    return f32_supported;
}

JNIEXPORT jint JNICALL F32_JNI(variant)(JNIEnv *env, jclass cls) {
    (void) env; (void) cls;
    f32_init();
    return f32_current;
}

JNIEXPORT jint JNICALL F32_JNI(selectVariant)(JNIEnv *env, jclass cls, jint v) {
    (void) env; (void) cls;
    f32_init();
    if (v >= 0 && v < F_COUNT && (f32_supported & (1 << v))) {
        f32_current = v;
    }
    return f32_current;
}

JNIEXPORT jstring JNICALL F32_JNI(variantName)(JNIEnv *env, jclass cls, jint v) {
    (void) cls;
    return (*env)->NewStringUTF(env, v >= 0 && v < F_COUNT ? F32_NAMES[v] : "unknown");
}

/*
 * rows rows of cols float32 weights (the heap array w from byte wOff) times n columns of x (column c from
 * x[xOff + c * xStride]) into y[yOff + c * yStride + r], stored or added to.
 */
JNIEXPORT void JNICALL F32_JNI(product)(JNIEnv *env, jclass cls, jbyteArray w, jint wOff, jint rows, jint cols,
                                         jfloatArray x, jint xOff, jint xStride, jint n, jfloatArray y, jint yOff,
                                         jint yStride, jboolean add) {
    (void) cls;
    f32_init();
    uint8_t *pw = (*env)->GetPrimitiveArrayCritical(env, w, NULL);
    float *px = (*env)->GetPrimitiveArrayCritical(env, x, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (pw && px && py) {
        f32_product_any(f32_current, (const float *) (pw + wOff), rows, cols, px + xOff, xStride, n, py + yOff,
                        yStride, add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (px) (*env)->ReleasePrimitiveArrayCritical(env, x, px, JNI_ABORT);
    if (pw) (*env)->ReleasePrimitiveArrayCritical(env, w, pw, JNI_ABORT);
}

/* As product, on weights off the Java heap: w is the address of the first row (a NativeSlab's). */
JNIEXPORT void JNICALL F32_JNI(productAt)(JNIEnv *env, jclass cls, jlong w, jint rows, jint cols, jfloatArray x,
                                           jint xOff, jint xStride, jint n, jfloatArray y, jint yOff, jint yStride,
                                           jboolean add) {
    (void) cls;
    f32_init();
    float *px = (*env)->GetPrimitiveArrayCritical(env, x, NULL);
    float *py = (*env)->GetPrimitiveArrayCritical(env, y, NULL);
    if (px && py) {
        f32_product_any(f32_current, (const float *) (intptr_t) w, rows, cols, px + xOff, xStride, n, py + yOff,
                        yStride, add ? 1 : 0);
    }
    if (py) (*env)->ReleasePrimitiveArrayCritical(env, y, py, 0);
    if (px) (*env)->ReleasePrimitiveArrayCritical(env, x, px, JNI_ABORT);
}
