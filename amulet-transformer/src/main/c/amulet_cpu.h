/*
 * What the x86 kernels share so that gcc and clang (14 and later) both build them: CPU features that the compilers'
 * __builtin_cpu_supports does not know everywhere (clang before 16, gcc before 11 have no "avxvnni"), asked of the
 * CPU itself; the rounding mode as a constant expression.
 */
#ifndef AMULET_CPU_H
#define AMULET_CPU_H

#if defined(__x86_64__) || defined(_M_X64)
#include <cpuid.h>
#include <immintrin.h>

/* _mm256_round_ps's mode: to nearest, ties to even, no exceptions (a constant expression, as clang requires). */
#define AMULET_ROUND_NEAREST (_MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)

/* AVX-VNNI: CPUID leaf 7, sub-leaf 1, EAX bit 4 (ask only where AVX2 is supported: the OS saves the YMM state). */
static inline int amulet_has_avxvnni(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) {
        return 0;
    }
    return (int) ((a >> 4) & 1u);
}
#endif

#endif
