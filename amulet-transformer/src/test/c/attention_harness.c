/*
 * Times the native decode attention alone, one thread, outside the JVM (issue 26): #includes a copy of
 * amulet_attention.c (AFILE; amulet_exp.c is linked beside it) and runs one decode step's split-slot attention of one
 * row as JavaForward does on the Qwen2.5-0.5B shape by default (24 layers, 2 key heads of 64 dimensions, `heads` heads
 * a key head, two ranges of slots a key head, each layer's own cache arrays), reading 128 MiB between steps so that
 * the keys and values come from memory as they do after a step's weights. Prints the best and the mean milliseconds a
 * step and a hash of the last step's partial outputs (two builds that compute the same floats print the same hash).
 * Not built by Maven; see src-docs/benchmarks-decode.md for the commands:
 *
 *   gcc -std=c11 -O2 -ffp-contract=off -I$JAVA_HOME/include -I$JAVA_HOME/include/linux \
 *       -Iamulet-transformer/src/main/c -DAFILE='"path/to/amulet_attention.c"' attention_harness.c \
 *       amulet-transformer/src/main/c/amulet_exp.c -o att -lm
 *   ./att SLOTS HALF HEADS STEPS      (HALF 1: a float16 cache; e.g. ./att 512 0 7 200)
 */
#define _POSIX_C_SOURCE 199309L
#include AFILE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

jint Java_io_github_amulet4j_transformer_NativeExp_variant(JNIEnv *, jclass);

static void *JNICALL ah_get(JNIEnv *env, jarray a, jboolean *isCopy) {
    (void) env;
    if (isCopy) {
        *isCopy = JNI_FALSE;
    }
    return (void *) a;
}

static void JNICALL ah_release(JNIEnv *env, jarray a, void *p, jint mode) {
    (void) env; (void) a; (void) p; (void) mode;
}

static double ah_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static uint32_t ah_state = 12345;

/* uniform in [-0.5, 0.5) */
static float ah_uniform(void) {
    ah_state = ah_state * 1664525u + 1013904223u;
    return (float) (ah_state >> 8) / 16777216.0f - 0.5f;
}

/* binary16 of a value in [-0.5, 0.5): exact enough for timing (the sign, exponent and top mantissa bits) */
static uint16_t ah_half(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    int e = (int) ((u >> 23) & 0xFF) - 127 + 15;
    uint16_t sign = (uint16_t) ((u >> 16) & 0x8000);
    return e <= 0 ? sign : (uint16_t) (sign | (uint16_t) (e << 10) | (uint16_t) ((u >> 13) & 0x3FF));
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s SLOTS HALF HEADS STEPS\n", argv[0]);
        return 2;
    }
    const int slots = atoi(argv[1]), half = atoi(argv[2]), heads = atoi(argv[3]), steps = atoi(argv[4]);
    const int layers = 24, keyHeads = 2, headDim = 64, tile = 16, ranges = 2;
    if (slots < 2 * tile || heads < 1 || heads > 8 || steps < 1) {
        fprintf(stderr, "SLOTS >= %d, HEADS 1..8, STEPS >= 1\n", 2 * tile);
        return 2;
    }
    struct JNINativeInterface_ functions;
    memset(&functions, 0, sizeof functions);
    functions.GetPrimitiveArrayCritical = ah_get;
    functions.ReleasePrimitiveArrayCritical = ah_release;
    const struct JNINativeInterface_ *table = &functions;
    JNIEnv *env = &table;
    Java_io_github_amulet4j_transformer_NativeExp_variant(env, NULL);
    const size_t elements = (size_t) (slots + tile) * headDim;
    void **keys = malloc(sizeof(void *) * layers * keyHeads), **values = malloc(sizeof(void *) * layers * keyHeads);
    for (int i = 0; i < layers * keyHeads; i++) {
        keys[i] = malloc(elements * (half ? 2 : 4));
        values[i] = malloc(elements * (half ? 2 : 4));
        for (size_t j = 0; j < elements; j++) {
            float k = ah_uniform(), v = ah_uniform();
            if (half) {
                ((uint16_t *) keys[i])[j] = ah_half(k);
                ((uint16_t *) values[i])[j] = ah_half(v);
            } else {
                ((float *) keys[i])[j] = k;
                ((float *) values[i])[j] = v;
            }
        }
    }
    float *q = malloc(sizeof(float) * 8 * headDim);
    for (int i = 0; i < 8 * headDim; i++) {
        q[i] = ah_uniform() * 0.5f;
    }
    float *out = calloc((size_t) ranges * 8 * headDim, sizeof(float));
    float *stats = calloc((size_t) ranges * 16, sizeof(float));
    float *scratch = malloc(sizeof(float) * 8 * (slots + 2 * tile));
    const size_t flushBytes = (size_t) 128 << 20;
    volatile unsigned char *flush = malloc(flushBytes);
    memset((void *) flush, 1, flushBytes);
    double best = 1e30, sum = 0;
    unsigned sink = 0;
    for (int step = 0; step < steps; step++) {
        for (size_t j = 0; j < flushBytes; j += 64) {
            sink += flush[j];
        }
        double t0 = ah_now();
        for (int l = 0; l < layers; l++) {
            for (int kh = 0; kh < keyHeads; kh++) {
                for (int g = 0; g < ranges; g++) {
                    int from = (int) ((long) slots * g / ranges), to = (int) ((long) slots * (g + 1) / ranges);
                    from -= g > 0 ? from % tile : 0;
                    attend_range(env, half, keys[l * keyHeads + kh], values[l * keyHeads + kh], (jfloatArray) q,
                                 (jfloatArray) out, (jfloatArray) stats, (jfloatArray) scratch, headDim, tile, 0,
                                 heads, from, to, g * 8 * headDim, g * 16);
                }
            }
        }
        double t = ah_now() - t0;
        sum += t;
        best = t < best ? t : best;
    }
    uint64_t hash = 1469598103934665603ull;
    for (int i = 0; i < ranges * 8 * headDim; i++) {
        uint32_t u;
        memcpy(&u, out + i, 4);
        hash = (hash ^ u) * 1099511628211ull;
    }
    printf("slots %d, %s cache, %d heads a key head: best %.3f ms, mean %.3f ms a step (one row, one thread); "
           "hash %016llx%s\n", slots, half ? "f16" : "f32", heads, best * 1e3, sum / steps * 1e3,
           (unsigned long long) hash, sink == 1 ? " " : "");
    return 0;
}
