/*
 * A check of the native kernels without a JVM (issue 26, aarch64): linked with the library's C files, it calls their
 * JNI entry points through a minimal JNIEnv (arrays are plain pointers: GetPrimitiveArrayCritical returns the pointer)
 * on random inputs of every tail (rows not a multiple of a tile or group, a single block, odd column counts), on every
 * variant the CPU has (selectVariant), and checks:
 *   - each variant against a naive float64 product (a tolerance relative to the sum of term magnitudes);
 *   - variants that promise the same summation order bit for bit against each other in this run (the same "class":
 *     Q8_0/Q4_0 avx2, avx-vnni, neon and neon-dotprod; F32/F16/BF16 avx2 and neon; every interleaved Q4_0 variant and
 *     the scalar one; quantize on every variant);
 *   - each column of a many-column product bit for bit the result it gets alone.
 * It prints one "HASH <family> <case> <class> <fnv-1a of the result bits>" line per result: kernels_check.sh compares
 * these lines between an x86-64 run and aarch64 runs (qemu), so the NEON variants are checked against AVX2's bits
 * and the scalar variant against itself across platforms. Exit status 0 when every check passed.
 *
 * Not part of the Maven build (it needs a cross compiler and qemu to be of use); see CONTRIBUTING.md.
 */
#define _DEFAULT_SOURCE /* M_PI */
#include <jni.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- a JNIEnv with the few functions the kernels call */

static void *JNICALL env_get_critical(JNIEnv *env, jarray a, jboolean *isCopy) {
    (void) env;
    if (isCopy) {
        *isCopy = JNI_FALSE;
    }
    return (void *) a;
}

static void JNICALL env_release_critical(JNIEnv *env, jarray a, void *p, jint mode) {
    (void) env; (void) a; (void) p; (void) mode;
}

static jstring JNICALL env_new_string(JNIEnv *env, const char *s) {
    (void) env;
    return (jstring) (void *) s;
}

static struct JNINativeInterface_ env_functions;
static const struct JNINativeInterface_ *env_table = &env_functions;
static JNIEnv *const ENV = &env_table;

#define A(p) ((void *) (p))

/* ---------------------------------------------------------------- the library's entry points */

#define K(name) Java_io_github_amulet4j_transformer_weights_NativeKernels_##name
#define F32(name) Java_io_github_amulet4j_transformer_weights_NativeFloat32Kernels_##name
#define H(name) Java_io_github_amulet4j_transformer_weights_NativeFloat16Kernels_##name

jint K(supportedVariants)(JNIEnv *, jclass);
jint K(selectVariant)(JNIEnv *, jclass, jint);
jstring K(variantName)(JNIEnv *, jclass, jint);
void K(quantize)(JNIEnv *, jclass, jfloatArray, jint, jbyteArray, jfloatArray, jfloatArray);
void K(productAt)(JNIEnv *, jclass, jboolean, jlong, jlong, jint, jint, jbyteArray, jfloatArray, jfloatArray, jint,
                  jint, jint, jfloatArray, jint, jint, jboolean);
jint K(interleaveAt)(JNIEnv *, jclass, jlong, jlong, jint, jint, jint);
void K(productInterleavedAt)(JNIEnv *, jclass, jlong, jlong, jint, jint, jint, jint, jbyteArray, jfloatArray,
                             jfloatArray, jint, jint, jint, jfloatArray, jint, jint, jboolean);
#define KQ(name) Java_io_github_amulet4j_transformer_weights_KQuantKernels_##name
jint KQ(supportedVariants)(JNIEnv *, jclass);
jint KQ(selectVariant)(JNIEnv *, jclass, jint);
jstring KQ(variantName)(JNIEnv *, jclass, jint);
void KQ(quantize)(JNIEnv *, jclass, jfloatArray, jint, jbyteArray, jfloatArray, jshortArray);
void KQ(productAt)(JNIEnv *, jclass, jint, jlong, jint, jint, jbyteArray, jfloatArray, jshortArray, jint, jint,
                   jfloatArray, jint, jint, jboolean);
#define Q5(name) Java_io_github_amulet4j_transformer_weights_Q50Kernels_##name
jint Q5(supportedVariants)(JNIEnv *, jclass);
jint Q5(selectVariant)(JNIEnv *, jclass, jint);
jstring Q5(variantName)(JNIEnv *, jclass, jint);
void Q5(productAt)(JNIEnv *, jclass, jlong, jint, jint, jbyteArray, jfloatArray, jint, jint, jfloatArray, jint, jint,
                   jboolean);
#define EXPF(name) Java_io_github_amulet4j_transformer_NativeExp_##name
jint EXPF(variant)(JNIEnv *, jclass);
jint EXPF(selectVariant)(JNIEnv *, jclass, jint);
jfloat EXPF(expShifted)(JNIEnv *, jclass, jfloatArray, jint, jint, jfloat);
void EXPF(activate)(JNIEnv *, jclass, jint, jfloatArray, jint, jint);
void EXPF(activateTimes)(JNIEnv *, jclass, jint, jfloatArray, jint, jint, jfloatArray, jint, jint);
void Java_io_github_amulet4j_transformer_NativeAttention_attend(JNIEnv *, jclass, jfloatArray, jfloatArray,
                                                                jfloatArray, jfloatArray, jfloatArray, jint, jint,
                                                                jint, jint, jint, jint, jint, jint, jint, jint, jint,
                                                                jint);
void Java_io_github_amulet4j_transformer_NativeAttention_attendPartial(JNIEnv *, jclass, jfloatArray, jfloatArray,
                                                                       jfloatArray, jfloatArray, jfloatArray,
                                                                       jfloatArray, jint, jint, jint, jint, jint, jint,
                                                                       jint, jint);
void Java_io_github_amulet4j_transformer_NativeAttention_attendHalf(JNIEnv *, jclass, jshortArray, jshortArray,
                                                                    jfloatArray, jfloatArray, jfloatArray, jint, jint,
                                                                    jint, jint, jint, jint, jint, jint, jint, jint,
                                                                    jint, jint);
void Java_io_github_amulet4j_transformer_NativeAttention_attendPartialHalf(JNIEnv *, jclass, jshortArray,
                                                                           jshortArray, jfloatArray, jfloatArray,
                                                                           jfloatArray, jfloatArray, jint, jint, jint,
                                                                           jint, jint, jint, jint, jint);
jint F32(supportedVariants)(JNIEnv *, jclass);
jint F32(selectVariant)(JNIEnv *, jclass, jint);
jstring F32(variantName)(JNIEnv *, jclass, jint);
void F32(productAt)(JNIEnv *, jclass, jlong, jint, jint, jfloatArray, jint, jint, jint, jfloatArray, jint, jint,
                    jboolean);
jint H(supportedVariants)(JNIEnv *, jclass);
jint H(selectVariant)(JNIEnv *, jclass, jint);
jstring H(variantName)(JNIEnv *, jclass, jint);
void H(toBf16)(JNIEnv *, jclass, jfloatArray, jint, jshortArray);
void H(productAt)(JNIEnv *, jclass, jboolean, jlong, jint, jint, jfloatArray, jshortArray, jint, jint, jint,
                  jfloatArray, jint, jint, jboolean);

/* ---------------------------------------------------------------- helpers */

static int failures = 0;
static int checks = 0;

static uint64_t rng = 0x9E3779B97F4A7C15ull;

static uint32_t next32(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t) (rng >> 16);
}

/* uniform in [-1, 1) */
static float uniform(void) {
    return (float) ((int32_t) next32()) / 2147483648.0f;
}

static float half_value(uint16_t h) {
    int e = (h >> 10) & 31, m = h & 1023;
    double v = e == 0 ? ldexp(m, -24) : ldexp(1024 + m, e - 25);
    return (float) ((h & 0x8000) ? -v : v);
}

/* a float16 of magnitude in [2^-9, 2^-4), either sign */
static uint16_t random_half(void) {
    uint32_t r = next32();
    return (uint16_t) ((r & 0x8000) | ((6 + (r >> 16) % 5) << 10) | ((r >> 4) & 1023));
}

static uint64_t fnv(const float *y, size_t count) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < count; i++) {
        uint32_t b;
        memcpy(&b, &y[i], 4);
        for (int j = 0; j < 4; j++) {
            h = (h ^ ((b >> (8 * j)) & 0xFF)) * 1099511628211ull;
        }
    }
    return h;
}

static void fail(const char *what) {
    failures++;
    printf("FAIL %s\n", what);
}

/* got against the float64 reference within rel of each output's magnitude */
static void near(const char *what, const float *got, const double *ref, const double *mag, size_t count, double rel) {
    checks++;
    for (size_t i = 0; i < count; i++) {
        double err = fabs(got[i] - ref[i]);
        if (!(err <= rel * mag[i] + 1e-6)) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s: output %zu is %.9g, reference %.9g (magnitude %.3g)", what, i, got[i],
                     ref[i], mag[i]);
            fail(msg);
            return;
        }
    }
}

static void same_bits(const char *what, const void *a, const void *b, size_t bytes) {
    checks++;
    if (memcmp(a, b, bytes) != 0) {
        fail(what);
    }
}

/* The classes of variants that sum in the same order (their results must be the same bits). */
static const char *variant_class(const char *family, const char *name) {
    if (strcmp(family, "q4x8") == 0 || strcmp(family, "q50") == 0) {
        return "exact"; /* every variant is the scalar one's bits (amulet_q4x8.c, amulet_q50.c) */
    }
    if (strcmp(family, "exp") == 0 || strcmp(family, "attention") == 0) {
        return "exact"; /* every width the Java code's bits (amulet_exp.c, amulet_attention.c) */
    }
    if (strcmp(family, "kq") == 0 && strncmp(name, "neon", 4) == 0) {
        return "scalar"; /* the scalar variant's float steps (amulet_kquants.c) */
    }
    if (strcmp(name, "avx2") == 0 || strcmp(name, "avx-vnni") == 0 || strcmp(name, "avx2-f16c") == 0
        || strcmp(name, "neon") == 0 || strcmp(name, "neon-dotprod") == 0) {
        return "lanes8";
    }
    return name;
}

/* Results of one case on each variant, for the in-run class comparison. */
#define MAX_VARIANTS 8
struct seen {
    const char *cls[MAX_VARIANTS];
    float *y[MAX_VARIANTS];
    int count;
};

static void record(struct seen *s, const char *family, const char *ccase, const char *name, const float *y,
                   size_t count) {
    const char *cls = variant_class(family, name);
    printf("HASH %s %s %s %016llx\n", family, ccase, cls, (unsigned long long) fnv(y, count));
    for (int i = 0; i < s->count; i++) {
        if (strcmp(s->cls[i], cls) == 0) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s %s: variant %s differs in bits from the other %s variant", family, ccase,
                     name, cls);
            same_bits(msg, s->y[i], y, count * sizeof(float));
            return;
        }
    }
    s->cls[s->count] = cls;
    s->y[s->count] = malloc(count * sizeof(float));
    memcpy(s->y[s->count], y, count * sizeof(float));
    s->count++;
}

static void forget(struct seen *s) {
    for (int i = 0; i < s->count; i++) {
        free(s->y[i]);
    }
    s->count = 0;
}

/* A family's variant entries. */
struct variants {
    jint (*supported)(JNIEnv *, jclass);
    jint (*select)(JNIEnv *, jclass, jint);
    jstring (*name)(JNIEnv *, jclass, jint);
};

static const struct variants Q8Q4_VARIANTS = {K(supportedVariants), K(selectVariant), K(variantName)};
static const struct variants F32_VARIANTS = {F32(supportedVariants), F32(selectVariant), F32(variantName)};
static const struct variants F16_VARIANTS = {H(supportedVariants), H(selectVariant), H(variantName)};
static const struct variants KQ_VARIANTS = {KQ(supportedVariants), KQ(selectVariant), KQ(variantName)};
static const struct variants Q5_VARIANTS = {Q5(supportedVariants), Q5(selectVariant), Q5(variantName)};

/* Variant v of the family selected: its name; NULL (nothing selected) where the CPU does not have it. */
static const char *select_variant(const struct variants *f, int v) {
    if (!(f->supported(ENV, NULL) & (1 << v))) {
        return NULL;
    }
    f->select(ENV, NULL, v);
    return (const char *) f->name(ENV, NULL, v);
}

/*
 * The checks of one variant's product y (n columns yStride apart, rows outputs each): near the float64 reference
 * (within rel), recorded for the comparisons of classes and runs, and where n > 1 each column the bits of the same
 * column computed alone (alone, laid out as y).
 */
static void check_product(struct seen *seen, const char *family, const char *ccase, const char *name, const float *y,
                          const float *alone, const double *ref, const double *mag, int rows, int n, int yStride,
                          double rel) {
    size_t ySize = (size_t) n * yStride;
    char what[160];
    snprintf(what, sizeof what, "%s %s vs float64", ccase, name);
    near(what, y, ref, mag, ySize, rel);
    record(seen, family, ccase, name, y, ySize);
    if (n > 1) {
        snprintf(what, sizeof what, "%s %s: a column of %d differs from the column alone", ccase, name, n);
        for (int c = 0; c < n; c++) {
            same_bits(what, y + (size_t) c * yStride, alone + (size_t) c * yStride, rows * sizeof(float));
        }
    }
}

/* ---------------------------------------------------------------- Q8_0 / Q4_0 activations */

struct act {
    int n, colBlocks, xBlock;
    float *x;  /* n * colBlocks * 32 */
    int8_t *q;
    float *d, *s;
};

static struct act make_act(int n, int blocks, int xBlock) {
    struct act a = {n, blocks + xBlock, xBlock, 0, 0, 0, 0};
    size_t values = (size_t) n * a.colBlocks * 32;
    a.x = malloc(values * sizeof(float));
    a.q = malloc(values);
    a.d = malloc(values / 32 * sizeof(float));
    a.s = malloc(values / 32 * sizeof(float));
    for (size_t i = 0; i < values; i++) {
        a.x[i] = uniform() * (1 + (i / 32) % 3);
    }
    if (values >= 64) {
        memset(a.x + 32, 0, 32 * sizeof(float)); /* an all-zero block */
    }
    return a;
}

static void free_act(struct act *a) {
    free(a->x); free(a->q); free(a->d); free(a->s);
}

/* quantizes a on every variant: the same bytes and scales on each (the scalar one's) */
static void quantize_all(struct act *a, const char *ccase) {
    size_t values = (size_t) a->n * a->colBlocks * 32;
    int8_t *q0 = NULL;
    float *d0 = NULL, *s0 = NULL;
    for (int v = 0; v < 4; v++) {
        const char *name = select_variant(&Q8Q4_VARIANTS, v);
        if (name == NULL) {
            continue;
        }
        K(quantize)(ENV, NULL, A(a->x), (jint) values, A(a->q), A(a->d), A(a->s));
        if (q0 == NULL) {
            q0 = malloc(values);
            d0 = malloc(values / 32 * sizeof(float));
            s0 = malloc(values / 32 * sizeof(float));
            memcpy(q0, a->q, values);
            memcpy(d0, a->d, values / 32 * sizeof(float));
            memcpy(s0, a->s, values / 32 * sizeof(float));
        } else {
            char msg[160];
            snprintf(msg, sizeof msg, "quantize %s: variant %s differs from scalar", ccase, name);
            same_bits(msg, q0, a->q, values);
            same_bits(msg, d0, a->d, values / 32 * sizeof(float));
            same_bits(msg, s0, a->s, values / 32 * sizeof(float));
        }
    }
    printf("HASH quantize %s exact %016llx\n", ccase, (unsigned long long) (fnv(a->d, values / 32)
                                                                          ^ fnv((const float *) a->q, values / 4)));
    free(q0); free(d0); free(s0);
}

/* ---------------------------------------------------------------- Q8_0 and Q4_0 rows */

/* One product of a block-format case: columns [c0, c0 + n) of its activations into y (yStride apart). */
struct block_case {
    void (*run)(const struct block_case *p, int c0, int n, float *y);
    int q4, rows, blocks, xBlock, yStride;
    const uint8_t *w;
    const uint16_t *sc;
    const struct act *a;
};

/* Every variant of f: the case's n-column product, and each column alone, through check_product. */
static void check_variants(const struct variants *f, const char *family, const char *ccase, const struct block_case *p,
                           int n, const double *ref, const double *mag) {
    size_t ySize = (size_t) n * p->yStride;
    float *y = malloc(ySize * sizeof(float)), *alone = malloc(ySize * sizeof(float));
    struct seen seen = {{0}, {0}, 0};
    for (int v = 0; v < 4; v++) {
        const char *name = select_variant(f, v);
        if (name == NULL) {
            continue;
        }
        for (size_t i = 0; i < ySize; i++) {
            y[i] = 0;
        }
        p->run(p, 0, n, y);
        for (int c = 0; n > 1 && c < n; c++) {
            p->run(p, c, 1, alone + (size_t) c * p->yStride);
        }
        check_product(&seen, family, ccase, name, y, alone, ref, mag, p->rows, n, p->yStride, 1e-5);
    }
    forget(&seen);
    free(y); free(alone);
}

static void run_q8q4(const struct block_case *p, int c0, int n, float *y) {
    const struct act *a = p->a;
    K(productAt)(ENV, NULL, (jboolean) p->q4, (jlong) (intptr_t) p->w, (jlong) (intptr_t) p->sc, p->rows, p->blocks,
                 A(a->q + (size_t) c0 * a->colBlocks * 32), A(a->d + (size_t) c0 * a->colBlocks),
                 A(a->s + (size_t) c0 * a->colBlocks), p->xBlock, a->colBlocks, n, A(y), 0, p->yStride, JNI_FALSE);
}

static void run_q50(const struct block_case *p, int c0, int n, float *y) {
    const struct act *a = p->a;
    Q5(productAt)(ENV, NULL, (jlong) (intptr_t) p->w, p->rows, p->blocks, A(a->q + (size_t) c0 * a->colBlocks * 32),
                  A(a->d + (size_t) c0 * a->colBlocks), a->colBlocks, n, A(y), 0, p->yStride, JNI_FALSE);
}

static void check_q8q4(int q4, int rows, int blocks, int n, int xBlock) {
    char ccase[96];
    snprintf(ccase, sizeof ccase, "%s:r%d:b%d:n%d:o%d", q4 ? "q4_0" : "q8_0", rows, blocks, n, xBlock);
    size_t qb = q4 ? 16 : 32;
    uint8_t *w = malloc((size_t) rows * blocks * qb + 1);
    uint16_t *sc = malloc((size_t) rows * blocks * 2 + 2);
    for (size_t i = 0; i < (size_t) rows * blocks * qb; i++) {
        uint32_t r = next32();
        w[i] = q4 ? (uint8_t) r : (uint8_t) (int8_t) ((int) (r % 255) - 127);
    }
    for (size_t i = 0; i < (size_t) rows * blocks; i++) {
        sc[i] = random_half();
    }
    struct act a = make_act(n, blocks, xBlock);
    quantize_all(&a, ccase);

    int yStride = rows + 3;
    size_t ySize = (size_t) n * yStride;
    double *ref = calloc(ySize, sizeof(double)), *mag = calloc(ySize, sizeof(double));
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < n; c++) {
            double s = 0, m = 0;
            for (int k = 0; k < blocks; k++) {
                size_t xb = (size_t) c * a.colBlocks + xBlock + k;
                long dot = 0, adot = 0;
                for (int j = 0; j < 32; j++) {
                    int wq;
                    if (q4) {
                        uint8_t b = w[((size_t) r * blocks + k) * 16 + (j & 15)];
                        wq = (j < 16 ? (b & 15) : (b >> 4)) - 8;
                    } else {
                        wq = (int8_t) w[((size_t) r * blocks + k) * 32 + j];
                    }
                    dot += (long) wq * a.q[xb * 32 + j];
                    adot += labs((long) wq * a.q[xb * 32 + j]) + (q4 ? 8L * labs(a.q[xb * 32 + j]) : 0);
                }
                double scale = (double) half_value(sc[(size_t) r * blocks + k]) * a.d[xb];
                s += dot * scale;
                m += adot * fabs(scale);
            }
            ref[(size_t) c * yStride + r] = s;
            mag[(size_t) c * yStride + r] = m;
        }
    }
    struct block_case pc = {run_q8q4, q4, rows, blocks, xBlock, yStride, w, sc, &a};
    check_variants(&Q8Q4_VARIANTS, "q8q4", ccase, &pc, n, ref, mag);
    float *y = malloc(ySize * sizeof(float));
    if (q4) {
        /* the same slab interleaved by 8 rows (the rows past the last group stay in the row layout) */
        uint8_t *wi = malloc((size_t) rows * blocks * 16 + 1);
        uint16_t *si = malloc((size_t) rows * blocks * 2 + 2);
        memcpy(wi, w, (size_t) rows * blocks * 16);
        memcpy(si, sc, (size_t) rows * blocks * 2);
        K(interleaveAt)(ENV, NULL, (jlong) (intptr_t) wi, (jlong) (intptr_t) si, 0, rows / 8, blocks);
        struct seen seenx = {{0}, {0}, 0};
        int first = rows > 9 ? 3 : 0; /* a row range that starts inside a group */
        for (int v = 0; v < 4; v++) {
            const char *name = select_variant(&Q8Q4_VARIANTS, v);
            if (name == NULL) {
                continue;
            }
            for (size_t i = 0; i < ySize; i++) {
                y[i] = 0;
            }
            K(productInterleavedAt)(ENV, NULL, (jlong) (intptr_t) wi, (jlong) (intptr_t) si, rows, first, rows - first,
                                    blocks, A(a.q), A(a.d), A(a.s), xBlock, a.colBlocks, n, A(y + first), 0, yStride,
                                    JNI_FALSE);
            double *r2 = malloc(ySize * sizeof(double)), *m2 = malloc(ySize * sizeof(double));
            for (size_t i = 0; i < ySize; i++) {
                r2[i] = (int) (i % yStride) >= first ? ref[i] : 0;
                m2[i] = mag[i];
            }
            char what[160];
            snprintf(what, sizeof what, "%s interleaved from row %d, %s vs float64", ccase, first, name);
            near(what, y, r2, m2, ySize, 1e-5);
            record(&seenx, "q4x8", ccase, name, y, ySize);
            free(r2); free(m2);
        }
        forget(&seenx);
        free(wi); free(si);
    }
    free(y); free(ref); free(mag); free(w); free(sc);
    free_act(&a);
}

/* ---------------------------------------------------------------- Q5_0 blocks */

/*
 * Q5_0 (ggml's block_q5_0: half scale, 32 fifth bits, 16 nibble bytes) times activations quantized as for Q8_0, every
 * variant against float64 and, being one class, against each other in bits; each column against the column alone.
 */
static void check_q50(int rows, int blocks, int n) {
    char ccase[96];
    snprintf(ccase, sizeof ccase, "q5_0:r%d:b%d:n%d", rows, blocks, n);
    size_t bytes = (size_t) rows * blocks * 22;
    uint8_t *w = malloc(bytes + 1);
    for (size_t i = 0; i < bytes; i++) {
        w[i] = (uint8_t) next32();
    }
    for (size_t k = 0; k < (size_t) rows * blocks; k++) {
        uint16_t h = random_half();
        memcpy(w + k * 22, &h, 2);
    }
    struct act a = make_act(n, blocks, 0);
    quantize_all(&a, ccase);
    int yStride = rows + 3;
    size_t ySize = (size_t) n * yStride;
    double *ref = calloc(ySize, sizeof(double)), *mag = calloc(ySize, sizeof(double));
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < n; c++) {
            double s = 0, m = 0;
            for (int k = 0; k < blocks; k++) {
                const uint8_t *b = w + ((size_t) r * blocks + k) * 22;
                uint16_t h;
                uint32_t qh;
                memcpy(&h, b, 2);
                memcpy(&qh, b + 2, 4);
                size_t xb = (size_t) c * a.colBlocks + k;
                long dot = 0, adot = 0;
                for (int j = 0; j < 32; j++) {
                    int nib = j < 16 ? b[6 + j] & 15 : b[6 + j - 16] >> 4;
                    int wq = (nib | (int) (((qh >> j) & 1u) << 4)) - 16;
                    dot += (long) wq * a.q[xb * 32 + j];
                    adot += labs((long) wq * a.q[xb * 32 + j]);
                }
                double scale = (double) half_value(h) * a.d[xb];
                s += dot * scale;
                m += adot * fabs(scale);
            }
            ref[(size_t) c * yStride + r] = s;
            mag[(size_t) c * yStride + r] = m;
        }
    }
    struct block_case pc = {run_q50, 0, rows, blocks, 0, yStride, w, NULL, &a};
    check_variants(&Q5_VARIANTS, "q50", ccase, &pc, n, ref, mag);
    free(ref); free(mag); free(w);
    free_act(&a);
}

/* ---------------------------------------------------------------- F32, F16 and BF16 rows */

static uint16_t random_weight16(int bf) {
    float f = uniform() * 0.25f;
    uint32_t u;
    memcpy(&u, &f, 4);
    if (bf) {
        return (uint16_t) (u >> 16);
    }
    return random_half();
}

/* fmt 0 F32, 1 F16, 2 BF16 */
static void check_float(int fmt, int rows, int cols, int n) {
    static const char *const NAMES[] = {"f32", "f16", "bf16"};
    char ccase[96];
    snprintf(ccase, sizeof ccase, "%s:r%d:c%d:n%d", NAMES[fmt], rows, cols, n);
    const struct variants *family = fmt == 0 ? &F32_VARIANTS : &F16_VARIANTS;
    size_t count = (size_t) rows * cols;
    float *w32 = malloc(count * sizeof(float) + 4);
    uint16_t *w16 = malloc(count * 2 + 2);
    for (size_t i = 0; i < count; i++) {
        if (fmt == 0) {
            w32[i] = uniform() * 0.25f;
        } else {
            w16[i] = random_weight16(fmt == 2);
            uint32_t u = (uint32_t) w16[i] << 16;
            float f;
            memcpy(&f, &u, 4);
            w32[i] = fmt == 2 ? f : half_value(w16[i]);
        }
    }
    int xStride = cols + 5;
    float *x = malloc((size_t) n * xStride * sizeof(float));
    uint16_t *xb = malloc((size_t) n * xStride * 2);
    for (size_t i = 0; i < (size_t) n * xStride; i++) {
        x[i] = uniform();
    }
    H(toBf16)(ENV, NULL, A(x), n * xStride, A(xb));
    int yStride = rows + 1;
    size_t ySize = (size_t) n * yStride;
    double *ref = calloc(ySize, sizeof(double)), *mag = calloc(ySize, sizeof(double));
    for (int r = 0; r < rows; r++) {
        for (int c = 0; c < n; c++) {
            double s = 0, m = 0;
            for (int i = 0; i < cols; i++) {
                double t = (double) w32[(size_t) r * cols + i] * x[(size_t) c * xStride + i];
                s += t;
                m += fabs(t);
            }
            ref[(size_t) c * yStride + r] = s;
            mag[(size_t) c * yStride + r] = m;
        }
    }
    float *y = malloc(ySize * sizeof(float)), *alone = malloc(ySize * sizeof(float));
    struct seen seen = {{0}, {0}, 0};
    for (int v = 0; v < 4; v++) {
        const char *name = select_variant(family, v);
        if (name == NULL) {
            continue;
        }
        memset(y, 0, ySize * sizeof(float));
        memset(alone, 0, ySize * sizeof(float));
        for (int pass = 0; pass <= (n > 1 ? n : 0); pass++) {
            /* pass 0: all n columns; pass c + 1: column c alone */
            int c0 = pass == 0 ? 0 : pass - 1, cn = pass == 0 ? n : 1;
            float *out = (pass == 0 ? y : alone) + (size_t) c0 * yStride;
            if (fmt == 0) {
                F32(productAt)(ENV, NULL, (jlong) (intptr_t) w32, rows, cols, A(x), c0 * xStride, xStride, cn, A(out),
                               0, yStride, JNI_FALSE);
            } else {
                H(productAt)(ENV, NULL, (jboolean) (fmt == 2), (jlong) (intptr_t) w16, rows, cols, A(x), A(xb),
                             c0 * xStride, xStride, cn, A(out), 0, yStride, JNI_FALSE);
            }
        }
        /* vdpbf16ps multiplies activations rounded to bfloat16 (8 bits of mantissa) */
        check_product(&seen, "float", ccase, name, y, alone, ref, mag, rows, n, yStride,
                      strcmp(name, "avx512-bf16") == 0 && fmt == 2 ? 8e-3 : 1e-5);
    }
    forget(&seen);
    free(y); free(alone); free(ref); free(mag); free(w32); free(w16); free(x); free(xb);
}

/* ---------------------------------------------------------------- Q4_K, Q5_K and Q6_K blocks */

/* ggml's 6-bit scale j and minimum j of a Q4_K/Q5_K block's 12 scale bytes (written out, not amulet_kquants.c's) */
static void scale_min_k4(int j, const uint8_t *q, int *sc, int *m) {
    if (j < 4) {
        *sc = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *sc = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}

/* One block's 256 weights as float64 (value = scale * q - min), and each one's magnitude |scale * q| + |min|. */
static void dequant_k(int fmt, const uint8_t *b, double *val, double *mag) {
    if (fmt == 2) {
        double d = half_value((uint16_t) (b[208] | b[209] << 8));
        const int8_t *sc = (const int8_t *) (b + 192);
        for (int n = 0; n < 2; n++) {
            const uint8_t *ql = b + 64 * n, *qh = b + 128 + 32 * n;
            for (int l = 0; l < 32; l++) {
                int is = l / 16;
                int q[4] = {(ql[l] & 0xF) | ((qh[l] >> 0 & 3) << 4), (ql[l + 32] & 0xF) | ((qh[l] >> 2 & 3) << 4),
                            (ql[l] >> 4) | ((qh[l] >> 4 & 3) << 4), (ql[l + 32] >> 4) | ((qh[l] >> 6 & 3) << 4)};
                for (int t = 0; t < 4; t++) {
                    double s = d * sc[8 * n + is + 2 * t];
                    val[128 * n + 32 * t + l] = s * (q[t] - 32);
                    mag[128 * n + 32 * t + l] = fabs(s) * (q[t] + 32);
                }
            }
        }
        return;
    }
    double d = half_value((uint16_t) (b[0] | b[1] << 8)), dmin = half_value((uint16_t) (b[2] | b[3] << 8));
    const uint8_t *qh = b + 16, *qs = b + (fmt == 1 ? 48 : 16);
    for (int c = 0; c < 4; c++) {
        int sc0, m0, sc1, m1;
        scale_min_k4(2 * c, b + 4, &sc0, &m0);
        scale_min_k4(2 * c + 1, b + 4, &sc1, &m1);
        for (int l = 0; l < 32; l++) {
            int lo = (qs[32 * c + l] & 0xF) + (fmt == 1 && (qh[l] >> (2 * c) & 1) ? 16 : 0);
            int hi = (qs[32 * c + l] >> 4) + (fmt == 1 && (qh[l] >> (2 * c + 1) & 1) ? 16 : 0);
            val[64 * c + l] = d * sc0 * lo - dmin * m0;
            mag[64 * c + l] = fabs(d * sc0 * lo) + fabs(dmin * m0);
            val[64 * c + 32 + l] = d * sc1 * hi - dmin * m1;
            mag[64 * c + 32 + l] = fabs(d * sc1 * hi) + fabs(dmin * m1);
        }
    }
}

static void check_kquant(int fmt, int rows, int blocks, int n) {
    static const char *const NAMES[] = {"q4_k", "q5_k", "q6_k"};
    static const int BYTES[] = {144, 176, 210};
    char ccase[96];
    snprintf(ccase, sizeof ccase, "%s:r%d:b%d:n%d", NAMES[fmt], rows, blocks, n);
    size_t bb = BYTES[fmt], wBytes = (size_t) rows * blocks * bb;
    uint8_t *w = malloc(wBytes);
    for (size_t i = 0; i < wBytes; i++) {
        w[i] = (uint8_t) next32();
    }
    for (size_t k = 0; k < (size_t) rows * blocks; k++) {
        uint8_t *b = w + k * bb;
        uint16_t h0 = random_half() & 0x7FFF, h1 = random_half() & 0x7FFF;
        if (fmt == 2) {
            b[208] = (uint8_t) h0; b[209] = (uint8_t) (h0 >> 8);
        } else {
            b[0] = (uint8_t) h0; b[1] = (uint8_t) (h0 >> 8);
            b[2] = (uint8_t) h1; b[3] = (uint8_t) (h1 >> 8);
        }
    }
    size_t values = (size_t) n * blocks * 256;
    float *x = malloc(values * sizeof(float)), *xd = malloc(values / 256 * sizeof(float));
    int8_t *xq = malloc(values);
    int16_t *xb = malloc(values / 16 * sizeof(int16_t));
    for (size_t i = 0; i < values; i++) {
        x[i] = uniform();
    }
    KQ(quantize)(ENV, NULL, A(x), (jint) values, A(xq), A(xd), A(xb));
    int yStride = rows + 2;
    size_t ySize = (size_t) n * yStride;
    double *ref = calloc(ySize, sizeof(double)), *mag = calloc(ySize, sizeof(double));
    double val[256], vmag[256];
    for (int r = 0; r < rows; r++) {
        for (int k = 0; k < blocks; k++) {
            dequant_k(fmt, w + ((size_t) r * blocks + k) * bb, val, vmag);
            for (int c = 0; c < n; c++) {
                size_t xo = ((size_t) c * blocks + k) * 256;
                double dx = xd[(size_t) c * blocks + k];
                for (int j = 0; j < 256; j++) {
                    ref[(size_t) c * yStride + r] += val[j] * xq[xo + j] * dx;
                    mag[(size_t) c * yStride + r] += vmag[j] * abs(xq[xo + j]) * dx;
                }
            }
        }
    }
    float *y = malloc(ySize * sizeof(float)), *alone = malloc(ySize * sizeof(float));
    struct seen seen = {{0}, {0}, 0};
    for (int v = 0; v < 4; v++) {
        const char *name = select_variant(&KQ_VARIANTS, v);
        if (name == NULL) {
            continue;
        }
        memset(y, 0, ySize * sizeof(float));
        memset(alone, 0, ySize * sizeof(float));
        KQ(productAt)(ENV, NULL, fmt, (jlong) (intptr_t) w, rows, blocks, A(xq), A(xd), A(xb), blocks, n, A(y), 0,
                      yStride, JNI_FALSE);
        for (int c = 0; n > 1 && c < n; c++) {
            KQ(productAt)(ENV, NULL, fmt, (jlong) (intptr_t) w, rows, blocks, A(xq + (size_t) c * blocks * 256),
                          A(xd + (size_t) c * blocks), A(xb + (size_t) c * blocks * 16), blocks, 1,
                          A(alone + (size_t) c * yStride), 0, yStride, JNI_FALSE);
        }
        check_product(&seen, "kq", ccase, name, y, alone, ref, mag, rows, n, yStride, 1e-5);
    }
    forget(&seen);
    free(y); free(alone); free(ref); free(mag); free(w); free(x); free(xd); free(xq); free(xb);
}

/* ---------------------------------------------------------------- exp, SiLU, GELU-tanh and attention */

/* The variants of amulet_exp.c this CPU has (1 AVX2 or NEON, 2 AVX-512F), as a mask; none: 0. */
static int exp_variants(void) {
    int best = EXPF(variant)(ENV, NULL);
    int m = 0;
    for (int v = 1; v <= best; v++) {
        if (EXPF(selectVariant)(ENV, NULL, v) == v) {
            m |= 1 << v;
        }
    }
    EXPF(selectVariant)(ENV, NULL, best);
    return m;
}

static const char *exp_name(int v) {
#if defined(__aarch64__)
    return v == 1 ? "neon" : "none";
#else
    return v == 1 ? "avx2" : v == 2 ? "avx512f" : "none";
#endif
}

static void check_exp(int n) {
    char ccase[64];
    snprintf(ccase, sizeof ccase, "n%d", n);
    int mask = exp_variants();
    float *x = malloc((n + 2) * sizeof(float)), *a = malloc((n + 2) * sizeof(float));
    float *mul = malloc((n + 2) * sizeof(float)), *out = malloc((size_t) 4 * (n + 2) * sizeof(float));
    for (int i = 0; i < n + 2; i++) {
        x[i] = uniform() * 12;
        mul[i] = uniform();
    }
    if (n > 3) {
        x[1] = -100; x[2] = 100; x[3] = -0.0f; /* past both clamps, and a negative zero */
    }
    double *ref = malloc((size_t) 4 * (n + 2) * sizeof(double)), *mag = malloc((size_t) 4 * (n + 2) * sizeof(double));
    const float shift = 1.5f;
    size_t m = (size_t) 4 * (n + 2);
    for (int i = 0; i < n + 2; i++) {
        int in = i >= 1 && i <= n;
        double v = x[i];
        double e = exp(fmax(fmin(v - shift, 88.0), -87.33654));
        double silu = v / (1 + exp(fmin(-v, 88.0)));
        double g = 0.5 * v * (1 + tanh(sqrt(2 / M_PI) * (v + 0.044715 * v * v * v)));
        ref[i] = in ? e : x[i];
        ref[n + 2 + i] = in ? silu : x[i];
        ref[2 * (n + 2) + i] = in ? g : x[i];
        ref[3 * (n + 2) + i] = in ? silu * mul[i] : 0;
        for (int t = 0; t < 4; t++) {
            mag[t * (n + 2) + i] = fabs(ref[t * (n + 2) + i]) + 1e-30;
        }
    }
    struct seen seen = {{0}, {0}, 0};
    for (int v = 1; v <= 2; v++) {
        if (!(mask & (1 << v))) {
            continue;
        }
        EXPF(selectVariant)(ENV, NULL, v);
        /* offset 1, one value either side left alone */
        memcpy(a, x, (n + 2) * sizeof(float));
        float sum = EXPF(expShifted)(ENV, NULL, A(a), 1, n, shift);
        memcpy(out, a, (n + 2) * sizeof(float));
        memcpy(a, x, (n + 2) * sizeof(float));
        EXPF(activate)(ENV, NULL, 0, A(a), 1, n);
        memcpy(out + n + 2, a, (n + 2) * sizeof(float));
        memcpy(a, x, (n + 2) * sizeof(float));
        EXPF(activate)(ENV, NULL, 1, A(a), 1, n);
        memcpy(out + 2 * (n + 2), a, (n + 2) * sizeof(float));
        /* activateTimes reads src at srcOff and mulOff of one array: x then mul side by side */
        float *src = malloc((size_t) 2 * (n + 2) * sizeof(float));
        memcpy(src, x, (n + 2) * sizeof(float));
        memcpy(src + n + 2, mul, (n + 2) * sizeof(float));
        memset(out + 3 * (n + 2), 0, (n + 2) * sizeof(float));
        EXPF(activateTimes)(ENV, NULL, 0, A(src), 1, n + 3, A(out + 3 * (n + 2)), 1, n);
        free(src);
        char what[128];
        snprintf(what, sizeof what, "exp %s %s vs float64", ccase, exp_name(v));
        near(what, out, ref, mag, m, 1e-6);
        double esum = 0;
        for (int i = 1; i <= n; i++) {
            esum += out[i];
        }
        float sums[1] = {sum};
        double rs[1] = {esum}, ms[1] = {esum};
        snprintf(what, sizeof what, "exp %s %s: the sum", ccase, exp_name(v));
        near(what, sums, rs, ms, 1, 1e-6);
        float *all = malloc((m + 1) * sizeof(float));
        memcpy(all, out, m * sizeof(float));
        all[m] = sum;
        record(&seen, "exp", ccase, exp_name(v), all, m + 1);
        free(all);
    }
    forget(&seen);
    free(x); free(a); free(mul); free(out); free(ref); free(mag);
}

/*
 * A prefill's attention for queries query0 .. query0 + n - 1 of one row and heads [first, first + count), against a
 * float64 softmax over the key/value cache (keys in tiles of `tile` slots, each transposed: [slot / tile][d][tile]).
 */
static void check_attention(int headDim, int tile, int heads, int first, int count, int total, int query0, int n,
                            int pad, int window) {
    char ccase[96];
    snprintf(ccase, sizeof ccase, "d%d:t%d:h%d-%d:s%d:q%d+%d:p%d:w%d", headDim, tile, first, count, total, query0, n,
             pad, window);
    int mask = exp_variants();
    int slots = (total + tile - 1) / tile * tile;
    int qDim = heads * headDim, qkvDim = qDim + 8;
    float *keys = malloc((size_t) slots * headDim * sizeof(float)), *values = malloc((size_t) slots * headDim * 4);
    float *qkv = malloc((size_t) n * qkvDim * sizeof(float)), *attn = malloc((size_t) n * qDim * sizeof(float));
    float *scratch = malloc((size_t) 8 * (total + tile) * sizeof(float));
    for (size_t i = 0; i < (size_t) slots * headDim; i++) {
        keys[i] = uniform();
        values[i] = uniform();
    }
    for (size_t i = 0; i < (size_t) n * qkvDim; i++) {
        qkv[i] = uniform() * 0.5f;
    }
    size_t outs = (size_t) n * qDim;
    double *ref = calloc(outs, sizeof(double)), *mag = calloc(outs, sizeof(double));
    double *sc = malloc((size_t) total * sizeof(double));
    for (int j = 0; j < n; j++) {
        int query = query0 + j;
        long lo = (long) query - window + 1;
        lo = lo < pad ? pad : lo;
        for (int h = first; h < first + count; h++) {
            double *o = ref + (size_t) j * qDim + (size_t) h * headDim, *om = mag + (size_t) j * qDim + (size_t) h * headDim;
            if (lo > query) {
                for (int d = 0; d < headDim; d++) {
                    for (int x = 0; x < total; x++) {
                        o[d] += values[(size_t) x * headDim + d] / total;
                        om[d] += fabs(values[(size_t) x * headDim + d]) / total;
                    }
                }
                continue;
            }
            const float *q = qkv + (size_t) j * qkvDim + (size_t) h * headDim;
            double mx = -INFINITY, s = 0;
            for (long x = lo; x <= query; x++) {
                double a = 0;
                for (int d = 0; d < headDim; d++) {
                    a += (double) keys[((size_t) (x / tile) * headDim + d) * tile + x % tile] * q[d];
                }
                sc[x] = a;
                mx = a > mx ? a : mx;
            }
            for (long x = lo; x <= query; x++) {
                sc[x] = exp(sc[x] - mx);
                s += sc[x];
            }
            for (int d = 0; d < headDim; d++) {
                for (long x = lo; x <= query; x++) {
                    o[d] += sc[x] * values[(size_t) x * headDim + d] / s;
                    om[d] += fabs(sc[x] * values[(size_t) x * headDim + d]) / s;
                }
            }
        }
    }
    struct seen seen = {{0}, {0}, 0};
    for (int v = 1; v <= 2; v++) {
        if (!(mask & (1 << v))) {
            continue;
        }
        EXPF(selectVariant)(ENV, NULL, v);
        memset(attn, 0, outs * sizeof(float));
        Java_io_github_amulet4j_transformer_NativeAttention_attend(ENV, NULL, A(keys), A(values), A(qkv), A(attn),
                                                                   A(scratch), headDim, tile, qkvDim, qDim, 0, n,
                                                                   query0, first, count, pad, window, total);
        char what[160];
        snprintf(what, sizeof what, "attention %s %s vs float64", ccase, exp_name(v));
        near(what, attn, ref, mag, outs, 1e-5);
        record(&seen, "attention", ccase, exp_name(v), attn, outs);
    }
    forget(&seen);
    free(keys); free(values); free(qkv); free(attn); free(scratch); free(ref); free(mag); free(sc);
}

/*
 * A partial of a decode step's split-slot attention: heads [0, count) of one query over slots [from, to), against
 * float64 (per head the largest score, the sum of exp(score - max) and the unnormalized weighted sum of the values).
 */
static void check_partial(int headDim, int tile, int count, int from, int to, int special) {
    char ccase[96];
    snprintf(ccase, sizeof ccase, "d%d:t%d:h%d:[%d,%d)%s", headDim, tile, count, from, to,
             special == 1 ? ":nan" : special == 2 ? ":inf" : special == 3 ? ":zero" : "");
    int mask = exp_variants();
    int slots = (to + tile - 1) / tile * tile;
    float *keys = malloc((size_t) slots * headDim * sizeof(float)), *values = malloc((size_t) slots * headDim * 4);
    float *qkv = malloc((size_t) 8 * headDim * sizeof(float));
    size_t outs = (size_t) 8 * headDim;
    float *got = malloc((outs + 16) * sizeof(float));
    float *scratch = malloc((size_t) 8 * (to - from + 2 * tile) * sizeof(float));
    for (size_t i = 0; i < (size_t) slots * headDim; i++) {
        keys[i] = uniform();
        values[i] = uniform();
    }
    for (size_t i = 0; i < outs; i++) {
        qkv[i] = special == 3 ? 0.0f : uniform() * 0.5f;
    }
    /* a slot past the first vectors of the range whose score is NaN (special 1) or +infinity (2): the scores' largest
     * takes the scalar scan there, as with all scores zero (3) */
    int odd = from + (to - from) * 2 / 3;
    for (int d = 0; special == 1 && d < headDim; d++) {
        keys[((size_t) (odd / tile) * headDim + d) * tile + odd % tile] = d == 3 ? NAN : keys[d];
    }
    for (int d = 0; special == 2 && d < headDim; d++) {
        keys[((size_t) (odd / tile) * headDim + d) * tile + odd % tile] = 3e38f;
    }
    for (size_t i = 0; special == 2 && i < outs; i++) {
        qkv[i] = 1.0f + uniform() * 0.25f;
    }
    double *ref = calloc(outs + 16, sizeof(double)), *mag = calloc(outs + 16, sizeof(double));
    double *sc = malloc((size_t) to * sizeof(double));
    for (int h = 0; h < 8; h++) {
        const float *q = qkv + (size_t) (h < count ? h : count - 1) * headDim;
        double mx = -INFINITY, sum = 0;
        for (int x = from; x < to; x++) {
            double a = 0;
            for (int d = 0; d < headDim; d++) {
                a += (double) keys[((size_t) (x / tile) * headDim + d) * tile + x % tile] * q[d];
            }
            sc[x] = a;
            mx = a > mx ? a : mx;
        }
        for (int x = from; x < to; x++) {
            sc[x] = exp(sc[x] - mx);
            sum += sc[x];
        }
        ref[outs + h] = mx;
        mag[outs + h] = fabs(mx) + 1;
        ref[outs + 8 + h] = sum;
        mag[outs + 8 + h] = sum;
        if (h < count) {
            for (int d = 0; d < headDim; d++) {
                for (int x = from; x < to; x++) {
                    ref[(size_t) h * headDim + d] += sc[x] * values[(size_t) x * headDim + d];
                    mag[(size_t) h * headDim + d] += fabs(sc[x] * values[(size_t) x * headDim + d]);
                }
            }
        }
    }
    struct seen seen = {{0}, {0}, 0};
    for (int v = 1; v <= 2; v++) {
        if (!(mask & (1 << v))) {
            continue;
        }
        EXPF(selectVariant)(ENV, NULL, v);
        memset(got, 0, (outs + 16) * sizeof(float));
        Java_io_github_amulet4j_transformer_NativeAttention_attendPartial(ENV, NULL, A(keys), A(values), A(qkv),
                                                                          A(got), A(got), A(scratch), headDim, tile,
                                                                          0, count, from, to, 0, (jint) outs);
        char what[160];
        snprintf(what, sizeof what, "partial attention %s %s vs float64", ccase, exp_name(v));
        if (special == 1 || special == 2) {
            /* every head's largest score is that slot's NaN or +infinity */
            for (int h = 0; h < count; h++) {
                int ok = special == 1 ? got[outs + h] != got[outs + h] : got[outs + h] == INFINITY;
                checks++;
                if (!ok) {
                    failures++;
                    printf("FAIL %s: head %d's largest score is %g\n", what, h, got[outs + h]);
                }
            }
        } else {
            /* heads count .. 7 leave their values untouched: compared as zeros */
            near(what, got, ref, mag, outs + 16, 1e-5);
        }
        /* a NaN made here (inf - inf) is the platform's default NaN, whose sign x86-64 and aarch64 do not share */
        for (size_t i = 0; special != 0 && i < outs + 16; i++) {
            got[i] = got[i] != got[i] ? NAN : got[i];
        }
        record(&seen, "attention", ccase, exp_name(v), got, outs + 16);
    }
    forget(&seen);
    free(keys); free(values); free(qkv); free(got); free(scratch); free(ref); free(mag); free(sc);
}

/*
 * The float16 KV cache: attention (queries query0 .. query0 + n - 1, heads [first, first + count)) and a split
 * partial (heads [0, pcount) over slots [from, to)) over keys and values held as binary16 must give the bits of the
 * float32 entry points over the same values widened, on every variant (widening is exact, the arithmetic after it is
 * the same code).
 */
static void check_half_attention(int headDim, int tile, int heads, int first, int count, int total, int query0, int n,
                                 int pad, int window, int pcount, int from, int to) {
    char ccase[112];
    snprintf(ccase, sizeof ccase, "f16:d%d:t%d:h%d-%d:s%d:q%d+%d:p%d:w%d:[%d,%d)", headDim, tile, first, count, total,
             query0, n, pad, window, from, to);
    int mask = exp_variants();
    int held = (total > to ? total : to);
    int slots = (held + tile - 1) / tile * tile;
    size_t cells = (size_t) slots * headDim;
    uint16_t *hk = malloc(cells * 2), *hv = malloc(cells * 2);
    float *keys = malloc(cells * sizeof(float)), *values = malloc(cells * sizeof(float));
    for (size_t i = 0; i < cells; i++) {
        /* magnitudes in [1/4, 2), either sign: scores of a few units */
        uint32_t r = next32();
        hk[i] = (uint16_t) ((r & 0x8000) | ((13 + (r >> 16) % 3) << 10) | ((r >> 3) & 1023));
        r = next32();
        hv[i] = (uint16_t) ((r & 0x8000) | ((13 + (r >> 16) % 3) << 10) | ((r >> 3) & 1023));
        keys[i] = half_value(hk[i]);
        values[i] = half_value(hv[i]);
    }
    int qDim = heads * headDim, qkvDim = qDim + 8;
    int rows = n > 1 ? n : 1;
    float *qkv = malloc((size_t) rows * qkvDim * sizeof(float));
    for (size_t i = 0; i < (size_t) rows * qkvDim; i++) {
        qkv[i] = uniform() * 0.3f;
    }
    size_t outs = (size_t) n * qDim;
    float *want = calloc(outs, sizeof(float)), *got = calloc(outs, sizeof(float));
    size_t pouts = (size_t) 8 * headDim + 16;
    float *pwant = calloc(pouts, sizeof(float)), *pgot = calloc(pouts, sizeof(float));
    float *scratch = malloc((size_t) 8 * (held + 2 * tile) * sizeof(float));
    struct seen seen = {{0}, {0}, 0};
    for (int v = 1; v <= 2; v++) {
        if (!(mask & (1 << v))) {
            continue;
        }
        EXPF(selectVariant)(ENV, NULL, v);
        Java_io_github_amulet4j_transformer_NativeAttention_attend(ENV, NULL, A(keys), A(values), A(qkv), A(want),
                                                                   A(scratch), headDim, tile, qkvDim, qDim, 0, n,
                                                                   query0, first, count, pad, window, total);
        Java_io_github_amulet4j_transformer_NativeAttention_attendHalf(ENV, NULL, A(hk), A(hv), A(qkv), A(got),
                                                                       A(scratch), headDim, tile, qkvDim, qDim, 0, n,
                                                                       query0, first, count, pad, window, total);
        Java_io_github_amulet4j_transformer_NativeAttention_attendPartial(ENV, NULL, A(keys), A(values), A(qkv),
                                                                          A(pwant), A(pwant), A(scratch), headDim,
                                                                          tile, 0, pcount, from, to, 0,
                                                                          (jint) (pouts - 16));
        Java_io_github_amulet4j_transformer_NativeAttention_attendPartialHalf(ENV, NULL, A(hk), A(hv), A(qkv),
                                                                              A(pgot), A(pgot), A(scratch), headDim,
                                                                              tile, 0, pcount, from, to, 0,
                                                                              (jint) (pouts - 16));
        checks += 2;
        if (memcmp(want, got, outs * sizeof(float)) != 0) {
            failures++;
            printf("FAIL attention %s %s: binary16 cache differs in bits from float32 over the same values\n", ccase,
                   exp_name(v));
        }
        if (memcmp(pwant, pgot, pouts * sizeof(float)) != 0) {
            failures++;
            printf("FAIL partial attention %s %s: binary16 cache differs in bits from float32\n", ccase,
                   exp_name(v));
        }
        record(&seen, "attention", ccase, exp_name(v), got, outs);
    }
    forget(&seen);
    free(hk); free(hv); free(keys); free(values); free(qkv); free(want); free(got); free(pwant); free(pgot);
    free(scratch);
}

int main(void) {
    env_functions.GetPrimitiveArrayCritical = env_get_critical;
    env_functions.ReleasePrimitiveArrayCritical = env_release_critical;
    env_functions.NewStringUTF = env_new_string;

    printf("variants: q8q4 0x%x, f32 0x%x, f16 0x%x, kq 0x%x, q50 0x%x, exp 0x%x\n",
           K(supportedVariants)(ENV, NULL), F32(supportedVariants)(ENV, NULL), H(supportedVariants)(ENV, NULL), KQ(supportedVariants)(ENV, NULL),
           Q5(supportedVariants)(ENV, NULL), exp_variants());
    static const int ROWS[] = {1, 3, 8, 13, 17, 70};
    static const int BLOCKS[] = {1, 2, 3, 7, 28};
    static const int COLS[] = {1, 2, 3, 5, 17};
    for (int q4 = 0; q4 <= 1; q4++) {
        for (size_t r = 0; r < sizeof ROWS / sizeof ROWS[0]; r++) {
            for (size_t b = 0; b < sizeof BLOCKS / sizeof BLOCKS[0]; b++) {
                for (size_t c = 0; c < sizeof COLS / sizeof COLS[0]; c++) {
                    check_q8q4(q4, ROWS[r], BLOCKS[b], COLS[c], (int) ((r + b + c) % 2));
                }
            }
        }
    }
    static const int FCOLS[] = {1, 7, 8, 31, 33, 64, 100, 259};
    static const int FN[] = {1, 2, 3, 5};
    for (int fmt = 0; fmt < 3; fmt++) {
        for (size_t r = 0; r < sizeof ROWS / sizeof ROWS[0]; r++) {
            for (size_t k = 0; k < sizeof FCOLS / sizeof FCOLS[0]; k++) {
                for (size_t c = 0; c < sizeof FN / sizeof FN[0]; c++) {
                    check_float(fmt, ROWS[r], FCOLS[k], FN[c]);
                }
            }
        }
    }
    static const int KROWS[] = {1, 3, 8, 13};
    static const int KBLOCKS[] = {1, 2, 3};
    for (int fmt = 0; fmt < 3; fmt++) {
        for (size_t r = 0; r < sizeof KROWS / sizeof KROWS[0]; r++) {
            for (size_t b = 0; b < sizeof KBLOCKS / sizeof KBLOCKS[0]; b++) {
                for (size_t c = 0; c < sizeof FN / sizeof FN[0]; c++) {
                    check_kquant(fmt, KROWS[r], KBLOCKS[b], FN[c]);
                }
            }
        }
    }
    /* Q5_0: rows past a row block of 32, one block and odd block counts (a last even block), 1-5 columns */
    static const int QROWS[] = {1, 3, 8, 13, 33, 70};
    for (size_t r = 0; r < sizeof QROWS / sizeof QROWS[0]; r++) {
        for (size_t b = 0; b < sizeof BLOCKS / sizeof BLOCKS[0]; b++) {
            for (size_t c = 0; c < sizeof FN / sizeof FN[0]; c++) {
                check_q50(QROWS[r], BLOCKS[b], FN[c]);
            }
        }
    }
    if (exp_variants() != 0) {
        for (int n = 1; n <= 41; n++) {
            check_exp(n);
        }
        /* head sizes of 8 lanes and of 16, tiles of 8 and 16, more than 8 heads, padding, a sliding window */
        check_attention(64, 16, 10, 0, 10, 40, 30, 10, 0, 1 << 20);
        check_attention(24, 8, 3, 1, 2, 21, 13, 8, 2, 1 << 20);
        check_attention(64, 16, 9, 2, 7, 37, 20, 17, 0, 5);
        check_attention(32, 8, 4, 0, 4, 19, 0, 5, 3, 1 << 20); /* queries before the padding's end */
        /* split-slot partials: a range inside one tile, ranges starting and ending inside tiles, 1 to 8 heads */
        check_partial(64, 16, 7, 256, 600, 0);
        check_partial(64, 16, 8, 0, 1, 0);
        check_partial(24, 8, 3, 5, 29, 0);
        check_partial(32, 8, 1, 13, 300, 0);
        /* every head count; ranges of 1 .. 3 vectors of scores and their tails (the scores' largest on vectors) */
        for (int h = 1; h <= 8; h++) {
            check_partial(64, 16, h, 16, 16 + 15 * h + 3, 0);
            check_partial(64, 16, h, 7, 40 + 4 * h, 0);
        }
        /* a NaN score, an infinite one, all zero: the scalar scan's value and bits */
        for (int special = 1; special <= 3; special++) {
            check_partial(64, 16, 7, 5, 300, special);
            check_partial(32, 8, 4, 0, 70, special);
        }
        /* the float16 cache: every tail (a single slot, slots short of a tile, one past), padding, windows */
        check_half_attention(64, 16, 7, 0, 7, 1, 0, 1, 0, 1 << 20, 7, 0, 1);
        check_half_attention(64, 16, 7, 0, 7, 15, 10, 5, 0, 1 << 20, 8, 3, 15);
        check_half_attention(64, 16, 10, 2, 8, 33, 20, 13, 2, 1 << 20, 5, 17, 33);
        check_half_attention(32, 8, 4, 0, 4, 19, 0, 5, 3, 1 << 20, 1, 13, 19);
        check_half_attention(24, 8, 3, 1, 2, 21, 13, 8, 2, 5, 3, 5, 29);
        check_half_attention(64, 16, 14, 0, 7, 600, 598, 2, 0, 1 << 20, 7, 256, 600);
    } else {
        printf("no exp variant on this CPU: exp and attention not checked\n");
    }
    printf("%s: %d checks, %d failed\n", failures ? "FAILED" : "PASSED", checks, failures);
    return failures ? 1 : 0;
}
