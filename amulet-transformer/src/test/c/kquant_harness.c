/*
 * Times the native K-quant kernels alone, one thread, outside the JVM (issue 26): #includes a copy of
 * amulet_kquants.c (KFILE), multiplies `rows` x `cols` random Q4_K/Q5_K/Q6_K blocks by 1..4 quantized columns for
 * about `seconds`, and prints G weights/s with a hash of the output bits (two builds of the kernels that compute the
 * same floats print the same hash). Not built by Maven; see src-docs/benchmarks-decode.md for the commands:
 *
 *   gcc -std=c11 -O2 -ffp-contract=off -I$JAVA_HOME/include -I$JAVA_HOME/include/linux -DKFILE='"path/to/amulet_kquants.c"' \
 *       kquant_harness.c -o kq -lm
 *   ./kq VARIANT FORMAT COLUMNS ROWS COLS SECONDS     (variant 0 scalar, 1 AVX2, 2 AVX-VNNI, 3 AVX-512 VNNI;
 *                                                      format 0 Q4_K, 1 Q5_K, 2 Q6_K)
 */
#define _POSIX_C_SOURCE 199309L
#include KFILE
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double kh_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static uint32_t kh_state = 12345;

static uint32_t kh_random(void) {
    kh_state = kh_state * 1664525u + 1013904223u;
    return kh_state >> 8;
}

int main(int argc, char **argv) {
    if (argc != 7) {
        fprintf(stderr, "usage: %s VARIANT(0-3) FORMAT(0 Q4_K, 1 Q5_K, 2 Q6_K) COLUMNS(1-4) ROWS COLS SECONDS\n", argv[0]);
        return 2;
    }
    int v = atoi(argv[1]), f = atoi(argv[2]), nc = atoi(argv[3]), rows = atoi(argv[4]), cols = atoi(argv[5]);
    double seconds = atof(argv[6]);
    if (v < 0 || v >= KV_COUNT || f < 0 || f > 2 || nc < 1 || nc > 4 || rows < 1 || cols < 256 || cols % 256 != 0) {
        fprintf(stderr, "bad argument: variant 0-3, format 0-2, columns 1-4, rows >= 1, cols a multiple of 256\n");
        return 2;
    }
    kq_init();
    if (!(kq_supported & (1 << v))) {
        fprintf(stderr, "variant %d (%s) not supported by this CPU\n", v, amulet_i8_name(v));
        return 2;
    }
    int blocks = cols / QK_K;
    size_t bb = BLOCK_BYTES[f], wbytes = (size_t) rows * blocks * bb;
    uint8_t *w = malloc(wbytes);
    for (size_t i = 0; i < wbytes; i++) {
        w[i] = (uint8_t) kh_random();
    }
    for (size_t k = 0; k < (size_t) rows * blocks; k++) { /* block scales as small positive halves */
        uint8_t *b = w + k * bb;
        if (f == F_Q6K) {
            b[208] = 0x00; b[209] = 0x20;
        } else {
            b[0] = 0x00; b[1] = 0x20; b[2] = 0x00; b[3] = 0x1C;
        }
    }
    float *x = malloc(sizeof(float) * cols * 4);
    for (int i = 0; i < cols * 4; i++) {
        x[i] = (float) ((int) (kh_random() % 2001) - 1000) / 997.0f;
    }
    int8_t *q = malloc((size_t) cols * 4);
    float *d = malloc(sizeof(float) * blocks * 4);
    int16_t *bs = malloc(sizeof(int16_t) * blocks * 16 * 4);
    kq_quantize_scalar(x, cols * 4, q, d, bs);
    float *y = calloc((size_t) rows * 4, sizeof(float));
    kq_fn fn = kq_kernel(v, f);
    fn(w, rows, blocks, q, d, bs, blocks, nc, y, rows, 0);
    double t0 = kh_now(), t;
    long calls = 0;
    do {
        fn(w, rows, blocks, q, d, bs, blocks, nc, y, rows, 0);
        calls++;
    } while ((t = kh_now() - t0) < seconds);
    uint64_t hash = 1469598103934665603ULL;
    const uint8_t *yb = (const uint8_t *) y;
    for (size_t i = 0; i < (size_t) nc * rows * sizeof(float); i++) {
        hash = (hash ^ yb[i]) * 1099511628211ULL;
    }
    printf("hash=%016llx v=%d f=%d nc=%d %dx%d: %.2f G weights/s (%.3f ms a call)\n", (unsigned long long) hash, v, f,
           nc, rows, cols, (double) calls * rows * cols / t / 1e9, 1e3 * t / calls);
    free(w); free(x); free(q); free(d); free(bs); free(y);
    return 0;
}
