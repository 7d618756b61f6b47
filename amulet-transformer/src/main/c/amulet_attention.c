/*
 * A prefill's attention (issue 26, cold start): for queries of one row and the heads of one key head, the scores
 * over the key cache's tiles, the softmax (the exponentials of amulet_exp.c) and the weighted sum of the values,
 * with AVX-512F or AVX2 and FMA (on aarch64: NEON, 4 lanes). The Java paths (JavaForward.attendOne/attendFour/attendEight, QueryBlockAttention)
 * run on the Vector API, which stays interpreted, allocating, for the whole first prefill of a fresh JVM (about a
 * third of a first 66-token prefill of the Qwen2.5-0.5B shape); this code is fast from its first call.
 *
 * The same bits as the Java paths, which all compute a query's outputs by the same chains:
 *   score[x] = chain over d = 0 .. headDim-1 of a = fma(key[x][d], q[d], a), from +0;
 *   m = the largest score of the slots seen [lo, query]; e[x] = exp(score[x] - m) and their sum s by amulet_exp.c
 *   (NativeExp's loop, bit for bit the Java one);
 *   out[dv] = (chain over x = lo .. query of a = fma(value[x][dv], e[x], a), from +0) * (1 / s);
 *   a query that sees no slot (a padding position): out[dv] = (value[0][dv] + value[1][dv] + ... in order, from +0)
 *   * (1 / total), every slot weighing the same.
 * Only which slots, dimensions and heads are computed side by side changes with the vector width. Built with -std=c11
 * (no contraction of a multiply and an add into an fma). Keys in tiles of `tile` slots, each transposed
 * ([slot / tile][headDim][tile], JavaKvCache.keyIndex), values [slot][headDim]. Called only with tile and headDim
 * multiples of 8 and where amulet_exp_variant() > 0 (NativeAttention checks both).
 */
#include <jni.h>
#include <stddef.h>
#include <stdint.h>

#include "amulet_exp.h"

#if defined(__x86_64__) || defined(_M_X64) || defined(__aarch64__)
/*
 * The largest of row[0, n) (n >= 1), the first NaN if one is (as Java's Math.max), the first of equal values (so
 * the first zero's sign where the largest is a zero). The variants' rowmax gives the same bits on vectors.
 */
static float row_max(const float *row, int n) {
    float m = row[0];
    for (int x = 1; x < n; x++) {
        float v = row[x];
        if (v > m || v != v) {
            m = v;
        }
        if (m != m) {
            break;
        }
    }
    return m;
}
#endif

/*
 * Slots ahead whose values the weighted sum's first pass prefetches, whole rows, so that the passes over the other
 * dimensions find them in the cache (the Qwen2.5-0.5B shape at 512 slots, one row, one thread: a decode step's
 * attention 0.52-0.58 ms with this and the next tile's keys prefetched, against 0.86-0.92 without either).
 */
#define WEIGH_AHEAD 16

/* call(k) with k the constant nh (1 to 8; more as 8): the body's functions inlined per head count */
#define BY_HEADS(nh, call)                                                                                            \
    switch (nh) {                                                                                                     \
    case 1: call(1); break;                                                                                           \
    case 2: call(2); break;                                                                                           \
    case 3: call(3); break;                                                                                           \
    case 4: call(4); break;                                                                                           \
    case 5: call(5); break;                                                                                           \
    case 6: call(6); break;                                                                                           \
    case 7: call(7); break;                                                                                           \
    default: call(8); break;                                                                                          \
    }

/* One width's steps, over a cache of float32 or of binary16 (the cache arrays as const void *). */
typedef struct {
    void (*scores)(const void *, int, int, const float *const *, int, int, float *, int);
    void (*weigh)(const void *, int, int, int, int, const float *, int, const float *, float *const *, int);
    void (*mean)(const void *, int, int, float *);
    float (*rowmax)(const float *, int);
} attention_fns;

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#define VT __m256
#define VW 8
#define VZERO() _mm256_setzero_ps()
#define VSET1(x) _mm256_set1_ps(x)
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VMAX(a, b) _mm256_max_ps((a), (b))
#define WEIGH_PAIRS 0

#define FN(name) name##_avx2
#define TARGET __attribute__((target("avx2,fma")))
#define CT float
#define BODY_ROWMAX 1
#define CLOAD(p) VLOAD(p)
#include "amulet_attention_body.h"

/* binary16 widened by F16C's vcvtph2ps (every AVX2 CPU has F16C, as amulet_float16.c assumes) */
#define FN(name) name##_avx2_f16
#define TARGET __attribute__((target("avx2,fma,f16c")))
#define CT uint16_t
#define CLOAD(p) _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *) (const void *) (p)))
#include "amulet_attention_body.h"

#undef VT
#undef VW
#undef VZERO
#undef VSET1
#undef VLOAD
#undef VSTORE
#undef VFMA
#undef VADD
#undef VMUL
#undef VMAX
#undef WEIGH_PAIRS

#define VT __m512
#define VW 16
#define VZERO() _mm512_setzero_ps()
#define VSET1(x) _mm512_set1_ps(x)
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VMAX(a, b) _mm512_max_ps((a), (b))
#define WEIGH_PAIRS 1

#define FN(name) name##_avx512
#define TARGET __attribute__((target("avx2,fma,avx512f")))
#define CT float
#define BODY_ROWMAX 1
#define CLOAD(p) VLOAD(p)
#include "amulet_attention_body.h"

/* binary16 widened by AVX-512F's vcvtph2ps on a zmm */
#define FN(name) name##_avx512_f16
#define TARGET __attribute__((target("avx2,fma,f16c,avx512f")))
#define CT uint16_t
#define CLOAD(p) _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *) (const void *) (p)))
#include "amulet_attention_body.h"

static const attention_fns FNS_AVX2 = {scores_avx2, weigh_avx2, mean_avx2, rowmax_avx2};
static const attention_fns FNS_AVX512 = {scores_avx512, weigh_avx512, mean_avx512, rowmax_avx512};
static const attention_fns FNS_AVX2_F16 = {scores_avx2_f16, weigh_avx2_f16, mean_avx2_f16, rowmax_avx2};
static const attention_fns FNS_AVX512_F16 = {scores_avx512_f16, weigh_avx512_f16, mean_avx512_f16, rowmax_avx512};
#define ATT_SIMD 1
#elif defined(__aarch64__)
#include <arm_neon.h>

#define VT float32x4_t
#define VW 4
#define VZERO() vdupq_n_f32(0)
#define VSET1(x) vdupq_n_f32(x)
#define VLOAD(p) vld1q_f32(p)
#define VSTORE(p, v) vst1q_f32((p), (v))
#define VFMA(a, b, c) vfmaq_f32((c), (a), (b))
#define VADD(a, b) vaddq_f32((a), (b))
#define VMUL(a, b) vmulq_f32((a), (b))
#define VMAX(a, b) vmaxq_f32((a), (b))
#define WEIGH_PAIRS 1

#define FN(name) name##_neon
#define TARGET
#define CT float
#define BODY_ROWMAX 1
#define CLOAD(p) VLOAD(p)
#include "amulet_attention_body.h"

/* binary16 widened by fcvtl (exact, as vcvtph2ps) */
#define FN(name) name##_neon_f16
#define TARGET
#define CT uint16_t
#define CLOAD(p) vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(p)))
#include "amulet_attention_body.h"

static const attention_fns FNS_NEON = {scores_neon, weigh_neon, mean_neon, rowmax_neon};
static const attention_fns FNS_NEON_F16 = {scores_neon_f16, weigh_neon_f16, mean_neon_f16, rowmax_neon};
#define ATT_SIMD 1
#endif

#ifdef ATT_SIMD

/*
 * Query at chunk row i (slot `query`, seeing [lo, query]), heads [first, first + count): reads its rotated query
 * from qkv + i * qkvDim, writes attn + i * qDim; sc holds 8 * (query + tile) floats.
 */
static void attend_query(const attention_fns *f, const void *keys, const void *values, const float *qkv,
                         float *attn, float *sc, int headDim, int tile, int qkvDim, int qDim, int i, int query,
                         int64_t lo, int first, int count, int total) {
    const float *rq = qkv + (size_t) i * qkvDim;
    float *ro = attn + (size_t) i * qDim;
    if (lo > query) {
        float *o = ro + (size_t) first * headDim;
        f->mean(values, headDim, total, o);
        for (int h = 1; h < count; h++) {
            for (int d = 0; d < headDim; d++) {
                o[(size_t) h * headDim + d] = o[d];
            }
        }
        return;
    }
    int l = (int) lo;
    int base = l - l % tile;
    int len = (query + 1 - base + tile - 1) / tile * tile;
    int from = l - base;
    int to = query - base + 1;
    for (int h0 = first; h0 < first + count; h0 += 8) {
        int nh = first + count - h0 < 8 ? first + count - h0 : 8;
        const float *q[8];
        float *out[8];
        float inv[8];
        for (int b = 0; b < 8; b++) {
            int h = h0 + (b < nh ? b : nh - 1);
            q[b] = rq + (size_t) h * headDim;
            out[b] = ro + (size_t) h * headDim;
            inv[b] = 0.0f;
        }
        f->scores(keys, tile, headDim, q, base, len, sc, nh);
        for (int b = 0; b < nh; b++) {
            float *row = sc + (size_t) b * len + from;
            float m = f->rowmax(row, to - from);
            inv[b] = 1.0f / amulet_exp_shifted(row, to - from, m);
        }
        f->weigh(values, headDim, base, from, to, sc, len, inv, out, nh);
    }
}

/*
 * One range [from, to) (from < to) of the slots a decode step's query sees, heads [0, count) (count <= 8) whose
 * rotated queries sit at q + h * headDim: per head the unnormalized sum of exp(score - m) * value into
 * out + h * headDim (the chain of attend_query times 1), its maximum m into stats[h] and its sum of exponentials into
 * stats[8 + h]; heads count .. 7 repeat the last (JavaForward.attendEight with stats: a partial of split-slot
 * attention, which JavaForward.combine merges). sc holds 8 * (to - from + 2 * tile) floats.
 */
static void attend_partial(const attention_fns *f, const void *keys, const void *values, const float *q, float *out,
                           float *stats, float *sc, int headDim, int tile, int from, int to, int count) {
    int base = from - from % tile;
    int len = (to - base + tile - 1) / tile * tile;
    const float *qs[8];
    float *outs[8];
    float ones[8];
    for (int b = 0; b < 8; b++) {
        int h = b < count ? b : count - 1;
        qs[b] = q + (size_t) h * headDim;
        outs[b] = out + (size_t) h * headDim;
        ones[b] = 1.0f;
    }
    f->scores(keys, tile, headDim, qs, base, len, sc, count);
    for (int b = 0; b < count; b++) {
        float *row = sc + (size_t) b * len + (from - base);
        float m = f->rowmax(row, to - from);
        stats[b] = m;
        stats[8 + b] = amulet_exp_shifted(row, to - from, m);
    }
    for (int b = count; b < 8; b++) {
        stats[b] = stats[count - 1];
        stats[8 + b] = stats[8 + count - 1];
    }
    f->weigh(values, headDim, base, from - base, to - base, sc, len, ones, outs, count);
}

/*
 * The widest variant for heads of headDim over tiles of `tile` slots (both multiples of 8), for a cache of float32
 * (half == 0) or of binary16.
 */
static const attention_fns *pick(int headDim, int tile, int half) {
#if defined(__x86_64__) || defined(_M_X64)
    if (amulet_exp_variant() == 2 && tile % 16 == 0 && headDim % 16 == 0) {
        return half ? &FNS_AVX512_F16 : &FNS_AVX512;
    }
    return half ? &FNS_AVX2_F16 : &FNS_AVX2;
#else
    (void) headDim;
    (void) tile;
    return half ? &FNS_NEON_F16 : &FNS_NEON;
#endif
}
#endif

#define ATT_JNI(name) Java_io_github_amulet4j_transformer_NativeAttention_##name

/*
 * Queries at chunk rows i0 .. i0 + n - 1 (slots query0 .. query0 + n - 1) of one row, heads [first, first + count) of
 * one key head (keys, values: that key head's cache arrays, float32 or binary16 as `half` says), each seeing slots
 * from max(pad, query - window + 1); total: the slots of the pass (a padding query's mean). scratch: at least
 * 8 * (total + tile) floats.
 */
static void attend_rows(JNIEnv *env, int half, jarray keys, jarray values, jfloatArray qkv, jfloatArray attn,
                        jfloatArray scratch, jint headDim, jint tile, jint qkvDim, jint qDim, jint i0, jint n,
                        jint query0, jint first, jint count, jint pad, jint window, jint total) {
#ifdef ATT_SIMD
    const attention_fns *f = pick(headDim, tile, half);
    void *pk = (*env)->GetPrimitiveArrayCritical(env, keys, NULL);
    void *pv = (*env)->GetPrimitiveArrayCritical(env, values, NULL);
    float *pq = (*env)->GetPrimitiveArrayCritical(env, qkv, NULL);
    float *pa = (*env)->GetPrimitiveArrayCritical(env, attn, NULL);
    float *ps = (*env)->GetPrimitiveArrayCritical(env, scratch, NULL);
    if (pk != NULL && pv != NULL && pq != NULL && pa != NULL && ps != NULL) {
        for (int j = 0; j < n; j++) {
            int query = query0 + j;
            int64_t lo = (int64_t) query - window + 1;
            if (lo < pad) {
                lo = pad;
            }
            attend_query(f, pk, pv, pq, pa, ps, headDim, tile, qkvDim, qDim, i0 + j, query, lo, first, count, total);
        }
    }
    if (ps != NULL) (*env)->ReleasePrimitiveArrayCritical(env, scratch, ps, 0);
    if (pa != NULL) (*env)->ReleasePrimitiveArrayCritical(env, attn, pa, 0);
    if (pq != NULL) (*env)->ReleasePrimitiveArrayCritical(env, qkv, pq, JNI_ABORT);
    if (pv != NULL) (*env)->ReleasePrimitiveArrayCritical(env, values, pv, JNI_ABORT);
    if (pk != NULL) (*env)->ReleasePrimitiveArrayCritical(env, keys, pk, JNI_ABORT);
#else
    (void) env; (void) half; (void) keys; (void) values; (void) qkv; (void) attn; (void) scratch; (void) headDim;
    (void) tile; (void) qkvDim; (void) qDim; (void) i0; (void) n; (void) query0; (void) first; (void) count;
    (void) pad; (void) window; (void) total;
#endif
}

/*
 * A partial of a decode step's split-slot attention (attend_partial): the heads [0, count) whose queries start at
 * qkv[q], over slots [from, to) of one key head's cache arrays (float32 or binary16 as `half` says), into
 * partialValues[out ..] and partialStats[at ..]; scratch: at least 8 * (to - from + 2 * tile) floats.
 */
static void attend_range(JNIEnv *env, int half, jarray keys, jarray values, jfloatArray qkv,
                         jfloatArray partialValues, jfloatArray partialStats, jfloatArray scratch, jint headDim,
                         jint tile, jint q, jint count, jint from, jint to, jint out, jint at) {
#ifdef ATT_SIMD
    const attention_fns *f = pick(headDim, tile, half);
    void *pk = (*env)->GetPrimitiveArrayCritical(env, keys, NULL);
    void *pv = (*env)->GetPrimitiveArrayCritical(env, values, NULL);
    float *pq = (*env)->GetPrimitiveArrayCritical(env, qkv, NULL);
    float *po = (*env)->GetPrimitiveArrayCritical(env, partialValues, NULL);
    float *pt = (*env)->GetPrimitiveArrayCritical(env, partialStats, NULL);
    float *ps = (*env)->GetPrimitiveArrayCritical(env, scratch, NULL);
    if (pk != NULL && pv != NULL && pq != NULL && po != NULL && pt != NULL && ps != NULL) {
        attend_partial(f, pk, pv, pq + q, po + out, pt + at, ps, headDim, tile, from, to, count);
    }
    if (ps != NULL) (*env)->ReleasePrimitiveArrayCritical(env, scratch, ps, 0);
    if (pt != NULL) (*env)->ReleasePrimitiveArrayCritical(env, partialStats, pt, 0);
    if (po != NULL) (*env)->ReleasePrimitiveArrayCritical(env, partialValues, po, 0);
    if (pq != NULL) (*env)->ReleasePrimitiveArrayCritical(env, qkv, pq, JNI_ABORT);
    if (pv != NULL) (*env)->ReleasePrimitiveArrayCritical(env, values, pv, JNI_ABORT);
    if (pk != NULL) (*env)->ReleasePrimitiveArrayCritical(env, keys, pk, JNI_ABORT);
#else
    (void) env; (void) half; (void) keys; (void) values; (void) qkv; (void) partialValues; (void) partialStats;
    (void) scratch; (void) headDim; (void) tile; (void) q; (void) count; (void) from; (void) to; (void) out;
    (void) at;
#endif
}

/* attend_rows over a float32 cache. */
JNIEXPORT void JNICALL ATT_JNI(attend)(JNIEnv *env, jclass cls, jfloatArray keys, jfloatArray values, jfloatArray qkv,
                                       jfloatArray attn, jfloatArray scratch, jint headDim, jint tile, jint qkvDim,
                                       jint qDim, jint i0, jint n, jint query0, jint first, jint count, jint pad,
                                       jint window, jint total) {
    (void) cls;
    attend_rows(env, 0, keys, values, qkv, attn, scratch, headDim, tile, qkvDim, qDim, i0, n, query0, first, count,
                pad, window, total);
}

/* attend_rows over a binary16 cache (keys and values as Java shorts holding the halfs' bits). */
JNIEXPORT void JNICALL ATT_JNI(attendHalf)(JNIEnv *env, jclass cls, jshortArray keys, jshortArray values,
                                           jfloatArray qkv, jfloatArray attn, jfloatArray scratch, jint headDim,
                                           jint tile, jint qkvDim, jint qDim, jint i0, jint n, jint query0,
                                           jint first, jint count, jint pad, jint window, jint total) {
    (void) cls;
    attend_rows(env, 1, keys, values, qkv, attn, scratch, headDim, tile, qkvDim, qDim, i0, n, query0, first, count,
                pad, window, total);
}

/* attend_range over a float32 cache. */
JNIEXPORT void JNICALL ATT_JNI(attendPartial)(JNIEnv *env, jclass cls, jfloatArray keys, jfloatArray values,
                                              jfloatArray qkv, jfloatArray partialValues, jfloatArray partialStats,
                                              jfloatArray scratch, jint headDim, jint tile, jint q, jint count,
                                              jint from, jint to, jint out, jint at) {
    (void) cls;
    attend_range(env, 0, keys, values, qkv, partialValues, partialStats, scratch, headDim, tile, q, count, from, to,
                 out, at);
}

/* attend_range over a binary16 cache. */
JNIEXPORT void JNICALL ATT_JNI(attendPartialHalf)(JNIEnv *env, jclass cls, jshortArray keys, jshortArray values,
                                                  jfloatArray qkv, jfloatArray partialValues,
                                                  jfloatArray partialStats, jfloatArray scratch, jint headDim,
                                                  jint tile, jint q, jint count, jint from, jint to, jint out,
                                                  jint at) {
    (void) cls;
    attend_range(env, 1, keys, values, qkv, partialValues, partialStats, scratch, headDim, tile, q, count, from, to,
                 out, at);
}
