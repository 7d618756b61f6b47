/*
 * The SIMD body of amulet_float32.c for one vector width, included once per variant with these defined:
 *   FN(name)  the variant's name for a function; TARGET its target attribute (empty for plain C);
 *   VT, VW    the vector type and its lanes; VZERO(), VLOAD(p), VFMA(a, b, c) = a * b + c rounded once,
 *             VADD(a, b), VSUM(v) the sum of v's lanes in a fixed order (a float);
 *   VLOADN(p, n)  optional: the first n < VW values at p, the other lanes zero. With it the values left after the
 *             runs of VW are summed in one more masked step (into the second accumulator) before the lanes are
 *             added; without it they are added one by one to the sum of the lanes.
 *   VPREFETCH(p)  optional: a prefetch of the cache line at p, used on the next row while one is summed.
 * The body undefines all of these at its end, so the next variant can define them again.
 */

/*
 * Row wr times columns xa and xb (xb may be null: one column). Each column: four accumulators over runs of 4 * VW
 * values, the first over the runs of VW left, then the rest (see VLOADN), then the fixed reduction
 * VSUM((a0 + a1) + (a2 + a3)); the same sequence for either column.
 */
static inline TARGET void FN(row)(const float *wr, int cols, const float *xa, const float *xb, float *ya, float *yb,
                                  int add) {
    VT a0 = VZERO(), a1 = a0, a2 = a0, a3 = a0;
    VT b0 = a0, b1 = a0, b2 = a0, b3 = a0;
    int i = 0;
    for (; i + 4 * VW <= cols; i += 4 * VW) {
        VT w0 = VLOAD(wr + i), w1 = VLOAD(wr + i + VW);
        VT w2 = VLOAD(wr + i + 2 * VW), w3 = VLOAD(wr + i + 3 * VW);
        a0 = VFMA(w0, VLOAD(xa + i), a0);
        a1 = VFMA(w1, VLOAD(xa + i + VW), a1);
        a2 = VFMA(w2, VLOAD(xa + i + 2 * VW), a2);
        a3 = VFMA(w3, VLOAD(xa + i + 3 * VW), a3);
        if (xb) {
            b0 = VFMA(w0, VLOAD(xb + i), b0);
            b1 = VFMA(w1, VLOAD(xb + i + VW), b1);
            b2 = VFMA(w2, VLOAD(xb + i + 2 * VW), b2);
            b3 = VFMA(w3, VLOAD(xb + i + 3 * VW), b3);
        }
    }
    for (; i + VW <= cols; i += VW) {
        VT w0 = VLOAD(wr + i);
        a0 = VFMA(w0, VLOAD(xa + i), a0);
        if (xb) {
            b0 = VFMA(w0, VLOAD(xb + i), b0);
        }
    }
#ifdef VLOADN
    if (i < cols) {
        VT w0 = VLOADN(wr + i, cols - i);
        a1 = VFMA(w0, VLOADN(xa + i, cols - i), a1);
        if (xb) {
            b1 = VFMA(w0, VLOADN(xb + i, cols - i), b1);
        }
    }
#endif
    float sa = VSUM(VADD(VADD(a0, a1), VADD(a2, a3)));
    float sb = xb ? VSUM(VADD(VADD(b0, b1), VADD(b2, b3))) : 0;
#ifndef VLOADN
    for (; i < cols; i++) {
        sa += wr[i] * xa[i];
        if (xb) {
            sb += wr[i] * xb[i];
        }
    }
#endif
    f32_store(ya, sa, add);
    if (xb) {
        f32_store(yb, sb, add);
    }
}

/* rows rows of cols weights times n columns of x into y (see f32_product_any): two columns share each row's loads. */
static TARGET void FN(product)(const float *w, int rows, int cols, const float *x, int xStride, int n, float *y,
                               int yStride, int add) {
    for (int r = 0; r < rows; r++) {
        const float *wr = w + (size_t) r * cols;
#ifdef VPREFETCH
        if (r + 1 < rows) {
            /* the next row while this one is summed: a decode step streams rows once */
            for (int i = 0; i < cols; i += 16) {
                VPREFETCH(wr + cols + i);
            }
        }
#endif
        int c = 0;
        for (; c + 2 <= n; c += 2) {
            FN(row)(wr, cols, x + (size_t) c * xStride, x + (size_t) (c + 1) * xStride, y + (size_t) c * yStride + r,
                    y + (size_t) (c + 1) * yStride + r, add);
        }
        if (c < n) {
            FN(row)(wr, cols, x + (size_t) c * xStride, NULL, y + (size_t) c * yStride + r, NULL, add);
        }
    }
}

#undef FN
#undef TARGET
#undef VT
#undef VW
#undef VZERO
#undef VLOAD
#undef VFMA
#undef VADD
#undef VSUM
#undef VLOADN
#undef VPREFETCH
