/*
 * An AVX2 __m256 of 8 float32 lanes on aarch64 NEON, for the variants that sum exactly as their AVX2 twin
 * (amulet_float32.c, amulet_float16.c): lanes 0..3 in lo, 4..7 in hi, each operation done on both halves, so the same
 * fused multiply-adds and adds give the same bits; f32x8_sum adds the lanes as hsum8 on x86 does (lo + hi, then
 * lanes 0 + 2 and 1 + 3, then those two).
 */
#ifndef AMULET_F32X8_NEON_H
#define AMULET_F32X8_NEON_H

#include <arm_neon.h>

typedef struct {
    float32x4_t lo, hi;
} f32x8;

static inline f32x8 f32x8_zero(void) {
    f32x8 v = {vdupq_n_f32(0), vdupq_n_f32(0)};
    return v;
}

static inline f32x8 f32x8_load(const float *p) {
    f32x8 v = {vld1q_f32(p), vld1q_f32(p + 4)};
    return v;
}

/* a * b + c, each lane rounded once (as _mm256_fmadd_ps). */
static inline f32x8 f32x8_fma(f32x8 a, f32x8 b, f32x8 c) {
    f32x8 v = {vfmaq_f32(c.lo, a.lo, b.lo), vfmaq_f32(c.hi, a.hi, b.hi)};
    return v;
}

static inline f32x8 f32x8_add(f32x8 a, f32x8 b) {
    f32x8 v = {vaddq_f32(a.lo, b.lo), vaddq_f32(a.hi, b.hi)};
    return v;
}

static inline float f32x8_sum(f32x8 v) {
    float32x4_t s = vaddq_f32(v.lo, v.hi);
    float32x2_t t = vadd_f32(vget_low_f32(s), vget_high_f32(s));
    return vget_lane_f32(t, 0) + vget_lane_f32(t, 1);
}

#endif
