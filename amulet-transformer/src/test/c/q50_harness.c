/*
 * Times the native Q5_0 kernels alone, one thread, outside the JVM (issue 26): #includes a copy of amulet_q50.c
 * (KFILE), multiplies `rows` x `cols` random Q5_0 blocks by `columns` random 8-bit quantized columns for about
 * `seconds`, and prints G weights/s with a hash of the output bits (two builds of the kernels that compute the same
 * floats print the same hash). Not built by Maven; see src-docs/benchmarks-decode.md for the commands:
 *
 *   gcc -std=c11 -O2 -ffp-contract=off -I$JAVA_HOME/include -I$JAVA_HOME/include/linux \
 *       -Iamulet-transformer/src/main/c -DKFILE='"path/to/amulet_q50.c"' q50_harness.c -o q5 -lm
 *   ./q5 VARIANT COLUMNS ROWS COLS SECONDS     (variant 0 scalar, 1 AVX2, 2 AVX-VNNI, 3 AVX-512 VNNI)
 */
#define _POSIX_C_SOURCE 199309L
#include KFILE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double qh_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static uint32_t qh_state = 12345;

static uint32_t qh_random(void) {
    qh_state = qh_state * 1664525u + 1013904223u;
    return qh_state >> 8;
}

int main(int argc, char **argv) {
    if (argc != 6) {
        fprintf(stderr, "usage: %s VARIANT(0-3) COLUMNS ROWS COLS SECONDS\n", argv[0]);
        return 2;
    }
    int v = atoi(argv[1]), n = atoi(argv[2]), rows = atoi(argv[3]), cols = atoi(argv[4]);
    double seconds = atof(argv[5]);
    if (v < 0 || v >= Q5V_COUNT || n < 1 || rows < 1 || cols < Q5_QK || cols % Q5_QK != 0) {
        fprintf(stderr, "bad argument: variant 0-3, columns >= 1, rows >= 1, cols a multiple of 32\n");
        return 2;
    }
    q50_init();
    if (!(q50_supported & (1 << v))) {
        fprintf(stderr, "variant %d (%s) not supported by this CPU\n", v, amulet_i8_name(v));
        return 2;
    }
    int blocks = cols / Q5_QK;
    size_t wbytes = (size_t) rows * blocks * Q5_BYTES;
    uint8_t *w = malloc(wbytes);
    for (size_t i = 0; i < wbytes; i++) {
        w[i] = (uint8_t) qh_random();
    }
    for (size_t k = 0; k < (size_t) rows * blocks; k++) { /* block scales as small positive halves */
        w[k * Q5_BYTES] = (uint8_t) qh_random();
        w[k * Q5_BYTES + 1] = 0x20;
    }
    int8_t *xq = malloc((size_t) n * cols);
    float *xd = malloc(sizeof(float) * n * blocks);
    for (size_t i = 0; i < (size_t) n * cols; i++) {
        xq[i] = (int8_t) ((int) (qh_random() % 255) - 127);
    }
    for (int i = 0; i < n * blocks; i++) {
        xd[i] = 0.001f * (float) (1 + qh_random() % 1000);
    }
    float *y = calloc((size_t) n * rows, sizeof(float));
    q50_product(v, w, rows, blocks, xq, xd, blocks, n, y, rows, 0);
    double t0 = qh_now(), t;
    long calls = 0;
    do {
        q50_product(v, w, rows, blocks, xq, xd, blocks, n, y, rows, 0);
        calls++;
    } while ((t = qh_now() - t0) < seconds);
    uint64_t hash = 1469598103934665603ULL;
    const uint8_t *yb = (const uint8_t *) y;
    for (size_t i = 0; i < (size_t) n * rows * sizeof(float); i++) {
        hash = (hash ^ yb[i]) * 1099511628211ULL;
    }
    printf("hash=%016llx Q5_0 v=%d nc=%d %dx%d: %.2f G weights/s (%.3f ms a call)\n", (unsigned long long) hash, v, n,
           rows, cols, (double) calls * rows * cols / t / 1e9, 1e3 * t / calls);
    free(w); free(xq); free(xd); free(y);
    return 0;
}
