/*
 * One row of amulet_float16.c against one or two columns, for the variants that sum 8 lanes as AVX2 does, included
 * once per variant with these defined:
 *   FN(name)  the variant's name for a function; TARGET its target attribute (empty for plain C);
 *   VT        an 8-lane float32 vector; VZERO(), VLOAD(p), VWIDEN(bf, p) eight 16-bit weights at p as float32 (BF16
 *             where bf, else F16), VFMA(a, b, c) = a * b + c rounded once, VADD(a, b), VSUM(v) the sum of v's lanes
 *             in a fixed order (a float).
 * The body undefines all of these at its end, so the next variant can define them again.
 */

/*
 * Row wr times columns x0 and, where two, x1 (bf and two constants after inlining) into *s0 and *s1: four
 * accumulators a column over runs of 32 weights, the first over the runs of 8 left, the reduction
 * VSUM((a0 + a1) + (a2 + a3)), then the last weights one by one.
 */
static inline __attribute__((always_inline)) TARGET void FN(row)(int bf, int two, const uint16_t *wr, int cols,
                                                                 const float *x0, const float *x1, float *s0,
                                                                 float *s1) {
    VT a0 = VZERO(), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int i = 0;
    for (; i + 32 <= cols; i += 32) {
        VT w0 = VWIDEN(bf, wr + i), w1 = VWIDEN(bf, wr + i + 8), w2 = VWIDEN(bf, wr + i + 16),
           w3 = VWIDEN(bf, wr + i + 24);
        a0 = VFMA(w0, VLOAD(x0 + i), a0);
        a1 = VFMA(w1, VLOAD(x0 + i + 8), a1);
        a2 = VFMA(w2, VLOAD(x0 + i + 16), a2);
        a3 = VFMA(w3, VLOAD(x0 + i + 24), a3);
        if (two) {
            b0 = VFMA(w0, VLOAD(x1 + i), b0);
            b1 = VFMA(w1, VLOAD(x1 + i + 8), b1);
            b2 = VFMA(w2, VLOAD(x1 + i + 16), b2);
            b3 = VFMA(w3, VLOAD(x1 + i + 24), b3);
        }
    }
    for (; i + 8 <= cols; i += 8) {
        VT w0 = VWIDEN(bf, wr + i);
        a0 = VFMA(w0, VLOAD(x0 + i), a0);
        if (two) {
            b0 = VFMA(w0, VLOAD(x1 + i), b0);
        }
    }
    float t0 = VSUM(VADD(VADD(a0, a1), VADD(a2, a3)));
    float t1 = two ? VSUM(VADD(VADD(b0, b1), VADD(b2, b3))) : 0;
    for (; i < cols; i++) {
        float wi = bf ? bf16_to_float(wr[i]) : f16_to_float(wr[i]);
        t0 += wi * x0[i];
        if (two) {
            t1 += wi * x1[i];
        }
    }
    *s0 = t0;
    if (two) {
        *s1 = t1;
    }
}

#undef FN
#undef TARGET
#undef VT
#undef VZERO
#undef VLOAD
#undef VWIDEN
#undef VFMA
#undef VADD
#undef VSUM
