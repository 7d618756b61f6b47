/*
 * Native kernels for float32 weights (issue 26): rows of F32 weights times any number of float32 activation columns,
 * so that an F32 checkpoint's matrices can live off the Java heap beside the other formats' (the Java kernels read
 * heap arrays only). Two columns at a time share each weight load; every column is summed by the same instructions
 * in the same order whatever the columns beside it, so its result is bit for bit the one it gets alone.
 *
 * Variants: 0 scalar C, 1 AVX2 with FMA, 2 AVX-512F; the widest the CPU has is chosen at run time (never
 * -march=native). Each variant sums a row in its own order, so variants agree within float32 rounding, not in bits.
 * On aarch64: 0 scalar C, 1 NEON (every aarch64 CPU), which sums exactly as the AVX2 variant (8 lanes in two
 * float32x4, the same fused multiply-adds, the same reduction), so its results are AVX2's bits.
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
#include <arm_neon.h>
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
#define T_AVX2 __attribute__((target("avx2,fma")))
#define T_AVX512 __attribute__((target("avx512f")))

static inline T_AVX2 float hsum8(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

/*
 * Row wr times columns xa and xb (xb may be null: one column). Each column: four accumulators over runs of 32
 * values, one over the runs of 8 left, the last values one by one; the same sequence for either column.
 */
static inline T_AVX2 void row_avx2(const float *wr, int cols, const float *xa, const float *xb, float *ya, float *yb,
                                   int add) {
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    __m256 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int i = 0;
    for (; i + 32 <= cols; i += 32) {
        __m256 w0 = _mm256_loadu_ps(wr + i), w1 = _mm256_loadu_ps(wr + i + 8);
        __m256 w2 = _mm256_loadu_ps(wr + i + 16), w3 = _mm256_loadu_ps(wr + i + 24);
        a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xa + i), a0);
        a1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xa + i + 8), a1);
        a2 = _mm256_fmadd_ps(w2, _mm256_loadu_ps(xa + i + 16), a2);
        a3 = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xa + i + 24), a3);
        if (xb) {
            b0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xb + i), b0);
            b1 = _mm256_fmadd_ps(w1, _mm256_loadu_ps(xb + i + 8), b1);
            b2 = _mm256_fmadd_ps(w2, _mm256_loadu_ps(xb + i + 16), b2);
            b3 = _mm256_fmadd_ps(w3, _mm256_loadu_ps(xb + i + 24), b3);
        }
    }
    for (; i + 8 <= cols; i += 8) {
        __m256 w0 = _mm256_loadu_ps(wr + i);
        a0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xa + i), a0);
        if (xb) {
            b0 = _mm256_fmadd_ps(w0, _mm256_loadu_ps(xb + i), b0);
        }
    }
    float sa = hsum8(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)));
    float sb = xb ? hsum8(_mm256_add_ps(_mm256_add_ps(b0, b1), _mm256_add_ps(b2, b3))) : 0;
    for (; i < cols; i++) {
        sa += wr[i] * xa[i];
        if (xb) {
            sb += wr[i] * xb[i];
        }
    }
    f32_store(ya, sa, add);
    if (xb) {
        f32_store(yb, sb, add);
    }
}

static T_AVX2 void f32_avx2(const float *w, int rows, int cols, const float *x, int xStride, int n, float *y,
                            int yStride, int add) {
    for (int r = 0; r < rows; r++) {
        const float *wr = w + (size_t) r * cols;
        int c = 0;
        for (; c + 2 <= n; c += 2) {
            row_avx2(wr, cols, x + (size_t) c * xStride, x + (size_t) (c + 1) * xStride, y + (size_t) c * yStride + r,
                     y + (size_t) (c + 1) * yStride + r, add);
        }
        if (c < n) {
            row_avx2(wr, cols, x + (size_t) c * xStride, NULL, y + (size_t) c * yStride + r, NULL, add);
        }
    }
}

/* As row_avx2 with 16 lanes: four accumulators over runs of 64, one over runs of 16, the rest masked. */
static inline T_AVX512 void row_avx512(const float *wr, int cols, const float *xa, const float *xb, float *ya,
                                       float *yb, int add) {
    __m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    __m512 b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int i = 0;
    for (; i + 64 <= cols; i += 64) {
        __m512 w0 = _mm512_loadu_ps(wr + i), w1 = _mm512_loadu_ps(wr + i + 16);
        __m512 w2 = _mm512_loadu_ps(wr + i + 32), w3 = _mm512_loadu_ps(wr + i + 48);
        a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xa + i), a0);
        a1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xa + i + 16), a1);
        a2 = _mm512_fmadd_ps(w2, _mm512_loadu_ps(xa + i + 32), a2);
        a3 = _mm512_fmadd_ps(w3, _mm512_loadu_ps(xa + i + 48), a3);
        if (xb) {
            b0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xb + i), b0);
            b1 = _mm512_fmadd_ps(w1, _mm512_loadu_ps(xb + i + 16), b1);
            b2 = _mm512_fmadd_ps(w2, _mm512_loadu_ps(xb + i + 32), b2);
            b3 = _mm512_fmadd_ps(w3, _mm512_loadu_ps(xb + i + 48), b3);
        }
    }
    for (; i + 16 <= cols; i += 16) {
        __m512 w0 = _mm512_loadu_ps(wr + i);
        a0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xa + i), a0);
        if (xb) {
            b0 = _mm512_fmadd_ps(w0, _mm512_loadu_ps(xb + i), b0);
        }
    }
    if (i < cols) {
        __mmask16 m = (__mmask16) ((1u << (cols - i)) - 1);
        __m512 w0 = _mm512_maskz_loadu_ps(m, wr + i);
        a1 = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, xa + i), a1);
        if (xb) {
            b1 = _mm512_fmadd_ps(w0, _mm512_maskz_loadu_ps(m, xb + i), b1);
        }
    }
    f32_store(ya, _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3))), add);
    if (xb) {
        f32_store(yb, _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(b0, b1), _mm512_add_ps(b2, b3))), add);
    }
}

static T_AVX512 void f32_avx512(const float *w, int rows, int cols, const float *x, int xStride, int n, float *y,
                                int yStride, int add) {
    for (int r = 0; r < rows; r++) {
        const float *wr = w + (size_t) r * cols;
        if (r + 1 < rows) {
            /* the next row while this one is summed: a decode step streams rows once */
            for (int i = 0; i < cols; i += 16) {
                _mm_prefetch((const char *) (wr + cols + i), _MM_HINT_T0);
            }
        }
        int c = 0;
        for (; c + 2 <= n; c += 2) {
            row_avx512(wr, cols, x + (size_t) c * xStride, x + (size_t) (c + 1) * xStride,
                       y + (size_t) c * yStride + r, y + (size_t) (c + 1) * yStride + r, add);
        }
        if (c < n) {
            row_avx512(wr, cols, x + (size_t) c * xStride, NULL, y + (size_t) c * yStride + r, NULL, add);
        }
    }
}
#endif

#ifdef F32_ARM
/* hsum8 of the AVX2 variant on 8 lanes held as lo (0..3) and hi (4..7). */
static inline float f32_hsum8_neon(float32x4_t lo, float32x4_t hi) {
    float32x4_t s = vaddq_f32(lo, hi);
    float32x2_t t = vadd_f32(vget_low_f32(s), vget_high_f32(s));
    return vget_lane_f32(t, 0) + vget_lane_f32(t, 1);
}
#endif

#ifdef F32_ARM
/* row_avx2 on NEON: AVX2 lane j of accumulator q is a[2q + j / 4] lane j % 4; the same fmas, the same reduction. */
static inline void row_neon(const float *wr, int cols, const float *xa, const float *xb, float *ya, float *yb,
                            int add) {
    float32x4_t a[8], b[8];
#pragma GCC unroll 8
    for (int j = 0; j < 8; j++) {
        a[j] = b[j] = vdupq_n_f32(0);
    }
    int i = 0;
    for (; i + 32 <= cols; i += 32) {
#pragma GCC unroll 8
        for (int j = 0; j < 8; j++) {
            float32x4_t wj = vld1q_f32(wr + i + 4 * j);
            a[j] = vfmaq_f32(a[j], wj, vld1q_f32(xa + i + 4 * j));
            if (xb) {
                b[j] = vfmaq_f32(b[j], wj, vld1q_f32(xb + i + 4 * j));
            }
        }
    }
    for (; i + 8 <= cols; i += 8) {
#pragma GCC unroll 2
        for (int j = 0; j < 2; j++) {
            float32x4_t wj = vld1q_f32(wr + i + 4 * j);
            a[j] = vfmaq_f32(a[j], wj, vld1q_f32(xa + i + 4 * j));
            if (xb) {
                b[j] = vfmaq_f32(b[j], wj, vld1q_f32(xb + i + 4 * j));
            }
        }
    }
    float sa = f32_hsum8_neon(vaddq_f32(vaddq_f32(a[0], a[2]), vaddq_f32(a[4], a[6])),
                              vaddq_f32(vaddq_f32(a[1], a[3]), vaddq_f32(a[5], a[7])));
    float sb = xb ? f32_hsum8_neon(vaddq_f32(vaddq_f32(b[0], b[2]), vaddq_f32(b[4], b[6])),
                                   vaddq_f32(vaddq_f32(b[1], b[3]), vaddq_f32(b[5], b[7]))) : 0;
    for (; i < cols; i++) {
        sa += wr[i] * xa[i];
        if (xb) {
            sb += wr[i] * xb[i];
        }
    }
    f32_store(ya, sa, add);
    if (xb) {
        f32_store(yb, sb, add);
    }
}

static void f32_neon(const float *w, int rows, int cols, const float *x, int xStride, int n, float *y, int yStride,
                     int add) {
    for (int r = 0; r < rows; r++) {
        const float *wr = w + (size_t) r * cols;
        if (r + 1 < rows) {
            for (int i = 0; i < cols; i += 16) {
                __builtin_prefetch(wr + cols + i);
            }
        }
        int c = 0;
        for (; c + 2 <= n; c += 2) {
            row_neon(wr, cols, x + (size_t) c * xStride, x + (size_t) (c + 1) * xStride, y + (size_t) c * yStride + r,
                     y + (size_t) (c + 1) * yStride + r, add);
        }
        if (c < n) {
            row_neon(wr, cols, x + (size_t) c * xStride, NULL, y + (size_t) c * yStride + r, NULL, add);
        }
    }
}
#endif

static void f32_product_any(int v, const float *w, int rows, int cols, const float *x, int xStride, int n, float *y,
                            int yStride, int add) {
#ifdef F32_X86
    if (v == F_AVX512) {
        f32_avx512(w, rows, cols, x, xStride, n, y, yStride, add);
        return;
    }
    if (v == F_AVX2) {
        f32_avx2(w, rows, cols, x, xStride, n, y, yStride, add);
        return;
    }
#endif
#ifdef F32_ARM
    if (v == F_NEON) {
        f32_neon(w, rows, cols, x, xStride, n, y, yStride, add);
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
