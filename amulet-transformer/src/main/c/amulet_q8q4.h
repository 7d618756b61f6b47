/*
 * What the Q8_0/Q4_0 kernel files (amulet_kernels.c, amulet_q4x8.c) share: the x86 and aarch64 detection, the
 * compilers that can build AVX-VNNI or sdot, the target attributes of each variant and the float16 scale conversion.
 */
#ifndef AMULET_Q8Q4_H
#define AMULET_Q8Q4_H

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__) || defined(_M_X64)
#define AMULET_X86 1
#include <immintrin.h>
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
/* vdotq_s32 in a function of its own target (gcc 10 or clang 11); older compilers build the plain NEON variant */
#if (defined(__clang__) && __clang_major__ >= 11) || (!defined(__clang__) && defined(__GNUC__) && __GNUC__ >= 10)
#define AMULET_DOTPROD 1
#define T_DOTPROD __attribute__((target("arch=armv8.2-a+dotprod")))
#endif
#endif

/* An IEEE half as float32, the Java kernels' bit trick (exact for finite values, subnormals included). */
static inline float half_to_float(uint16_t h) {
    int32_t bits = (int32_t) ((uint32_t) h << 16);
    bits = (bits >> 3) & (int32_t) 0x8FFFE000;
    float f;
    memcpy(&f, &bits, 4);
    return f * 0x1p112f;
}

#endif
