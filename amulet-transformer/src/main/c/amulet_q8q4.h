/*
 * What the int8 dot-product kernel files (amulet_kernels.c, amulet_q4x8.c, amulet_kquants.c) share: the x86 and
 * aarch64 detection, the compilers that can build AVX-VNNI or sdot, the variants the CPU has, the target attributes of
 * each variant and the float16 scale conversion.
 */
#ifndef AMULET_Q8Q4_H
#define AMULET_Q8Q4_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define AMULET_X86 1
#include <immintrin.h>
#include "amulet_cpu.h"
/* AVX-VNNI (the 256-bit VEX vpdpbusd) needs gcc 11 or clang 12; older compilers build the other variants */
#if (defined(__clang__) && __clang_major__ >= 12) || (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 11)
#define AMULET_AVXVNNI 1
#endif
#define T_AVX2 __attribute__((target("avx2,fma,f16c")))
#define T_AVXVNNI __attribute__((target("avx2,fma,f16c,avxvnni")))
#define T_AVX512 __attribute__((target("avx2,fma,f16c,avx512f,avx512bw,avx512vl,avx512vnni")))
#endif

#if defined(__aarch64__)
#define AMULET_ARM 1
#include <arm_neon.h>
#include <sys/auxv.h>
/* Advanced SIMD (NEON) is part of every aarch64 CPU; sdot/udot (ARMv8.2 dotprod) is optional: AT_HWCAP says */
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
/*
 * sdot in functions of their own target, never for the whole file: gcc 10 or later through the intrinsics
 * (target("arch=armv8.2-a+dotprod")); clang 14 or later (target("dotprod")) through the instruction itself, since its
 * arm_neon.h before version 16 declares vdotq_s32 only when the whole file is built for dotprod. Other compilers
 * build the plain NEON variant.
 */
#if defined(__clang__) && __clang_major__ >= 14
#define AMULET_DOTPROD 1
#define AMULET_SDOT_ASM 1
#define T_DOTPROD __attribute__((target("dotprod")))
#elif !defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 10
#define AMULET_DOTPROD 1
#define T_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#endif

#ifdef AMULET_DOTPROD
/* acc + the 4 int32 lane sums of a[i] * b[i] over bytes 4i..4i+3 (sdot) */
static inline T_DOTPROD int32x4_t amulet_sdot(int32x4_t acc, int8x16_t a, int8x16_t b) {
#ifdef AMULET_SDOT_ASM
    __asm__("sdot %0.4s, %1.16b, %2.16b" : "+w"(acc) : "w"(a), "w"(b));
    return acc;
#else
    return vdotq_s32(acc, a, b);
#endif
}

/* acc + the 4 int32 lane sums of a[4i..4i+3] times the 4 bytes of lane L of b (sdot by element) */
#ifdef AMULET_SDOT_ASM
#define AMULET_SDOT_LANE(L)                                                                                           \
    static inline T_DOTPROD int32x4_t amulet_sdot_lane##L(int32x4_t acc, int8x16_t a, int8x16_t b) {                  \
        __asm__("sdot %0.4s, %1.16b, %2.4b[" #L "]" : "+w"(acc) : "w"(a), "w"(b));                                    \
        return acc;                                                                                                   \
    }
#else
#define AMULET_SDOT_LANE(L)                                                                                           \
    static inline T_DOTPROD int32x4_t amulet_sdot_lane##L(int32x4_t acc, int8x16_t a, int8x16_t b) {                  \
        return vdotq_laneq_s32(acc, a, b, L);                                                                         \
    }
#endif
AMULET_SDOT_LANE(0)
AMULET_SDOT_LANE(1)
AMULET_SDOT_LANE(2)
AMULET_SDOT_LANE(3)
#endif

/* 4 int32 lane sums of a[i] * b[i] over bytes 4i..4i+3, without sdot: widening multiplies and pairwise adds. */
static inline int32x4_t dot16_neon(int8x16_t a, int8x16_t b) {
    int32x4_t lo = vpaddlq_s16(vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    int32x4_t hi = vpaddlq_s16(vmull_high_s8(a, b));
    return vpaddq_s32(lo, hi);
}

#ifdef AMULET_DOTPROD
/* dot16_neon with sdot */
static inline T_DOTPROD int32x4_t dot16_dotprod(int8x16_t a, int8x16_t b) {
    return amulet_sdot(vdupq_n_s32(0), a, b);
}
#endif

/* The AVX2 variants' horizontal sum of 8 lanes (lo: 0..3, hi: 4..7): lanes i and i + 4 added, then (0 + 2) + (1 + 3). */
static inline float hsum8_neon(float32x4_t lo, float32x4_t hi) {
    float32x4_t s = vaddq_f32(lo, hi);
    float32x2_t t = vadd_f32(vget_low_f32(s), vget_high_f32(s));
    return vget_lane_f32(t, 0) + vget_lane_f32(t, 1);
}
#endif

/* The variants of the int8 dot-product kernels, numbered alike in each of their files (the Java side's numbers). */
enum {
    AMULET_I8_SCALAR = 0,
    AMULET_I8_AVX2 = 1,         /* with FMA and F16C */
    AMULET_I8_AVXVNNI = 2,
    AMULET_I8_AVX512VNNI = 3,   /* with AVX-512 F, BW and VL */
    AMULET_I8_NEON = 1,         /* aarch64 */
    AMULET_I8_NEON_DOTPROD = 2, /* aarch64 with sdot */
    AMULET_I8_COUNT = 4
};

/* Variant v's name, as the Java side shows it ("unknown" outside the numbers; 3 is never supported on aarch64). */
static inline const char *amulet_i8_name(int v) {
#ifdef AMULET_ARM
    static const char *const names[AMULET_I8_COUNT] = {"scalar", "neon", "neon-dotprod", "none"};
#else
    static const char *const names[AMULET_I8_COUNT] = {"scalar", "avx2", "avx-vnni", "avx512-vnni"};
#endif
    return v >= 0 && v < AMULET_I8_COUNT ? names[v] : "unknown";
}

/* The variants this CPU and this build have, a bit each (AMULET_I8_*). */
static inline int amulet_i8_supported(void) {
    int m = 1 << AMULET_I8_SCALAR;
#ifdef AMULET_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        m |= 1 << AMULET_I8_AVX2; /* every AVX2 CPU has F16C */
#ifdef AMULET_AVXVNNI
        if (amulet_has_avxvnni()) {
            m |= 1 << AMULET_I8_AVXVNNI;
        }
#endif
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")
            && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni")) {
            m |= 1 << AMULET_I8_AVX512VNNI;
        }
    }
#endif
#ifdef AMULET_ARM
    m |= 1 << AMULET_I8_NEON;
#ifdef AMULET_DOTPROD
    if (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) {
        m |= 1 << AMULET_I8_NEON_DOTPROD;
    }
#endif
#endif
    return m;
}

/* An IEEE half as float32, the Java kernels' bit trick (exact for finite values, subnormals included). */
static inline float half_to_float(uint16_t h) {
    int32_t bits = (int32_t) ((uint32_t) h << 16);
    bits = (bits >> 3) & (int32_t) 0x8FFFE000;
    float f;
    memcpy(&f, &bits, 4);
    return f * 0x1p112f;
}

#endif
