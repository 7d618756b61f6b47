/*
 * Weights off the Java heap (issue 26): memory for WeightPanel's native slabs, mapped anonymous and private (with
 * transparent huge pages asked for where the kernel gives them on request), and the copy of a checkpoint's rows into
 * them: a row's bytes as they are (F32, F16, BF16, the K-quants) or a Q8_0/Q4_0 row's blocks split into quants and
 * float16 scales, each row checked for weights or scales that are infinite or NaN as it is copied.
 *
 * Java side: io.github.amulet4j.transformer.weights.NativeSlab.
 */
#define _GNU_SOURCE
#include <jni.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#define MEM_JNI(name) Java_io_github_amulet4j_transformer_weights_NativeSlab_##name

/* Slabs of this size or more ask for transparent huge pages (fewer page faults when the weights are first written). */
#define HUGE_FROM (2L << 20)

JNIEXPORT jlong JNICALL MEM_JNI(allocate0)(JNIEnv *env, jclass cls, jlong bytes) {
    (void) env; (void) cls;
    if (bytes <= 0) {
        return 0;
    }
    void *p = mmap(NULL, (size_t) bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        return 0;
    }
#ifdef MADV_HUGEPAGE
    if (bytes >= HUGE_FROM) {
        madvise(p, (size_t) bytes, MADV_HUGEPAGE); /* a request: refused where huge pages are off */
    }
#endif
    return (jlong) (intptr_t) p;
}

JNIEXPORT void JNICALL MEM_JNI(free)(JNIEnv *env, jclass cls, jlong address, jlong bytes) {
    (void) env; (void) cls;
    if (address != 0 && bytes > 0) {
        munmap((void *) (intptr_t) address, (size_t) bytes);
    }
}

JNIEXPORT jobject JNICALL MEM_JNI(view)(JNIEnv *env, jclass cls, jlong address, jlong bytes) {
    (void) cls;
    return (*env)->NewDirectByteBuffer(env, (void *) (intptr_t) address, bytes);
}

JNIEXPORT jlong JNICALL MEM_JNI(address)(JNIEnv *env, jclass cls, jobject buffer) {
    (void) cls;
    return (jlong) (intptr_t) (*env)->GetDirectBufferAddress(env, buffer);
}

/*
 * Asks for huge pages over [address, address + bytes) (a weight cache's mapping: the page cache then reads it in
 * 2 MiB folios, which map with one entry each) and enters its pages into the page tables at once, as MAP_POPULATE
 * would. Returns 0, or -1 where the kernel has no MADV_POPULATE_READ (before Linux 5.14): the pages then fault in as
 * they are first read.
 */
JNIEXPORT jint JNICALL MEM_JNI(populate)(JNIEnv *env, jclass cls, jlong address, jlong bytes) {
    (void) env; (void) cls;
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
    uintptr_t a = (uintptr_t) address, page = 4096;
    uintptr_t start = a & ~(page - 1);
    size_t len = (size_t) (a + (uintptr_t) bytes - start);
#ifdef MADV_HUGEPAGE
    madvise((void *) start, len, MADV_HUGEPAGE);
#endif
    return madvise((void *) start, len, MADV_POPULATE_READ) == 0 ? 0 : -1;
}

/*
 * Maps the first bytes of the file at path read-only and shared, at an address that is a multiple of 2 MiB (so that
 * the file's 2 MiB folios can be mapped whole). Returns the address, or 0 where the file cannot be opened or mapped.
 */
JNIEXPORT jlong JNICALL MEM_JNI(mapFile)(JNIEnv *env, jclass cls, jstring path, jlong bytes) {
    (void) cls;
    const size_t huge = 2u << 20;
    if (bytes <= 0) {
        return 0;
    }
    const char *p = (*env)->GetStringUTFChars(env, path, NULL);
    if (!p) {
        return 0;
    }
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    (*env)->ReleaseStringUTFChars(env, path, p);
    if (fd < 0) {
        return 0;
    }
    size_t len = (size_t) bytes;
    /* reserve room for an aligned start, then map the file over the aligned part of it */
    uint8_t *room = mmap(NULL, len + huge, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (room == MAP_FAILED) {
        close(fd);
        return 0;
    }
    uint8_t *at = (uint8_t *) (((uintptr_t) room + huge - 1) & ~(uintptr_t) (huge - 1));
    void *m = mmap(at, len, PROT_READ, MAP_SHARED | MAP_FIXED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        munmap(room, len + huge);
        return 0;
    }
    if (at > room) {
        munmap(room, (size_t) (at - room));
    }
    size_t tail = (size_t) (room + len + huge - (at + len));
    if (tail > 0) {
        munmap(at + len, tail);
    }
    return (jlong) (intptr_t) at;
}

/*
 * Writes the file at path to disk and drops its pages from the page cache, so that its next reader reads it back in
 * 2 MiB folios (pages written by a process stay 4 KiB ones). Returns 0, or -1.
 */
JNIEXPORT jint JNICALL MEM_JNI(dropCached)(JNIEnv *env, jclass cls, jstring path) {
    (void) cls;
    const char *p = (*env)->GetStringUTFChars(env, path, NULL);
    if (!p) {
        return -1;
    }
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    (*env)->ReleaseStringUTFChars(env, path, p);
    if (fd < 0) {
        return -1;
    }
    int rc = fdatasync(fd) == 0 && posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED) == 0 ? 0 : -1;
    close(fd);
    return rc;
}

/* Whether any of n 16-bit values (step apart) has every bit of exponent set: a branch-free reduction. */
static int any_shorts(const uint8_t *p, int n, int step, uint16_t exponent) {
    int bad = 0;
    for (int i = 0; i < n; i++) {
        uint16_t v;
        memcpy(&v, p + (size_t) i * step, 2);
        bad |= (v & exponent) == exponent;
    }
    return bad;
}

static int any_floats(const uint8_t *p, int n) {
    int bad = 0;
    for (int i = 0; i < n; i++) {
        uint32_t v;
        memcpy(&v, p + (size_t) i * 4, 4);
        bad |= (v & 0x7F800000u) == 0x7F800000u;
    }
    return bad;
}

/* Kinds of storeRows, as NativeSlab numbers them. */
enum { K_F32 = 0, K_F16 = 1, K_BF16 = 2, K_Q8_0 = 3, K_Q4_0 = 4, K_Q45_K = 5, K_Q6_K = 6, K_Q5_0 = 7 };

/*
 * count rows from src (srcStride bytes apart, already at the panel's first column) into dst (dstRowBytes apart) and,
 * for Q8_0/Q4_0, their block scales into scales (blocks apart). blocks: blocks of the panel's row (0 for the float
 * formats, whose row is dstRowBytes bytes); blockBytes: bytes of one block in src. Returns the first row (0-based)
 * with a weight or scale that is infinite or NaN (copied or not), or -1.
 */
JNIEXPORT jint JNICALL MEM_JNI(storeRows)(JNIEnv *env, jclass cls, jint kind, jlong src, jlong srcStride, jint count,
                                          jlong dst, jlong dstRowBytes, jlong scales, jint blocks, jint blockBytes) {
    (void) env; (void) cls;
    const uint8_t *s = (const uint8_t *) (intptr_t) src;
    uint8_t *d = (uint8_t *) (intptr_t) dst;
    uint16_t *sc = (uint16_t *) (intptr_t) scales;
    for (jint r = 0; r < count; r++) {
        const uint8_t *row = s + (size_t) r * (size_t) srcStride;
        uint8_t *out = d + (size_t) r * (size_t) dstRowBytes;
        int bad = 0;
        switch (kind) {
            case K_F32:
                memcpy(out, row, (size_t) dstRowBytes);
                bad = any_floats(row, (int) (dstRowBytes / 4));
                break;
            case K_F16:
                memcpy(out, row, (size_t) dstRowBytes);
                bad = any_shorts(row, (int) (dstRowBytes / 2), 2, 0x7C00);
                break;
            case K_BF16:
                memcpy(out, row, (size_t) dstRowBytes);
                bad = any_shorts(row, (int) (dstRowBytes / 2), 2, 0x7F80);
                break;
            case K_Q8_0:
            case K_Q4_0: {
                int quants = blockBytes - 2;
                uint16_t *rs = sc + (size_t) r * blocks;
                for (int k = 0; k < blocks; k++) {
                    const uint8_t *b = row + (size_t) k * blockBytes;
                    memcpy(rs + k, b, 2);
                    memcpy(out + (size_t) k * quants, b + 2, (size_t) quants);
                }
                bad = any_shorts((const uint8_t *) rs, blocks, 2, 0x7C00);
                break;
            }
            case K_Q45_K:
                /* the half scale d and the minimum scale dmin open every block */
                memcpy(out, row, (size_t) dstRowBytes);
                bad = any_shorts(row, blocks, blockBytes, 0x7C00) | any_shorts(row + 2, blocks, blockBytes, 0x7C00);
                break;
            case K_Q5_0:
                /* block_q5_0's half scale d opens its 22 bytes */
                memcpy(out, row, (size_t) dstRowBytes);
                bad = any_shorts(row, blocks, blockBytes, 0x7C00);
                break;
            case K_Q6_K:
                /* block_q6_K's half scale d closes its 210 bytes */
                memcpy(out, row, (size_t) dstRowBytes);
                bad = any_shorts(row + blockBytes - 2, blocks, blockBytes, 0x7C00);
                break;
            default:
                return r;
        }
        if (bad) {
            return r;
        }
    }
    return -1;
}
