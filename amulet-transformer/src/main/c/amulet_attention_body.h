/*
 * The body of amulet_attention.c for one vector width, included once per variant with these defined:
 *   FN(name)  the variant's name for a function; TARGET its target attribute (empty for plain C);
 *   VT, VW    the vector type and its lanes; VZERO(), VSET1(x), VLOAD(p), VSTORE(p, v), VFMA(a, b, c) = a * b + c
 *             rounded once, VADD(a, b), VMUL(a, b);
 *   CT        the element type of the cache's keys and values (float, or uint16_t for IEEE binary16), and CLOAD(p)
 *             the VW elements at p as float32 (VLOAD, or an exact widening of binary16: every half is a float32),
 *             so a float16 cache gives the bits of a float32 cache holding the same values.
 * Every output element is computed by one chain of these operations in the order amulet_attention.c describes,
 * whatever the width: the variants give the same bits. The body undefines FN, TARGET, CT and CLOAD at its end, so the
 * same width can be included again for the other cache type (amulet_attention.c undefines the width's macros).
 */

/*
 * Scores of eight heads (q[0..7], repeated where fewer) of one query for the slots of whole tiles [base, base + len)
 * into sc[h * len + x]: for each slot the chain a = fma(key[d], q[d], a) over d from 0, from +0.
 */
TARGET static void FN(scores)(const void *cache, int tile, int headDim, const float *const *q, int base, int len,
                              float *sc) {
    const CT *keys = (const CT *) cache;
    for (int s = 0; s < len; s += tile) {
        const CT *t = keys + (size_t) (base + s) * headDim;
        for (int c = 0; c < tile; c += VW) {
            VT a0 = VZERO(), a1 = VZERO(), a2 = VZERO(), a3 = VZERO();
            VT a4 = VZERO(), a5 = VZERO(), a6 = VZERO(), a7 = VZERO();
            for (int d = 0; d < headDim; d++) {
                VT k = CLOAD(t + (size_t) d * tile + c);
                a0 = VFMA(k, VSET1(q[0][d]), a0);
                a1 = VFMA(k, VSET1(q[1][d]), a1);
                a2 = VFMA(k, VSET1(q[2][d]), a2);
                a3 = VFMA(k, VSET1(q[3][d]), a3);
                a4 = VFMA(k, VSET1(q[4][d]), a4);
                a5 = VFMA(k, VSET1(q[5][d]), a5);
                a6 = VFMA(k, VSET1(q[6][d]), a6);
                a7 = VFMA(k, VSET1(q[7][d]), a7);
            }
            float *o = sc + s + c;
            VSTORE(o, a0);
            VSTORE(o + len, a1);
            VSTORE(o + 2 * (size_t) len, a2);
            VSTORE(o + 3 * (size_t) len, a3);
            VSTORE(o + 4 * (size_t) len, a4);
            VSTORE(o + 5 * (size_t) len, a5);
            VSTORE(o + 6 * (size_t) len, a6);
            VSTORE(o + 7 * (size_t) len, a7);
        }
    }
}

/*
 * out[h][dv] = (chain over slots x in [from, to) of fma(value[x][dv], w[h][x], a), from +0) * inv[h] for the first
 * nh of eight weight rows w[h] = sc + h * len (relative to slot base).
 */
TARGET static void FN(weigh)(const void *cache, int headDim, int base, int from, int to, const float *sc, int len,
                             const float *inv, float *const *out, int nh) {
    const CT *values = (const CT *) cache;
    for (int dv = 0; dv < headDim; dv += VW) {
        VT a0 = VZERO(), a1 = VZERO(), a2 = VZERO(), a3 = VZERO();
        VT a4 = VZERO(), a5 = VZERO(), a6 = VZERO(), a7 = VZERO();
        for (int x = from; x < to; x++) {
            VT v = CLOAD(values + (size_t) (base + x) * headDim + dv);
            a0 = VFMA(v, VSET1(sc[x]), a0);
            a1 = VFMA(v, VSET1(sc[len + x]), a1);
            a2 = VFMA(v, VSET1(sc[2 * (size_t) len + x]), a2);
            a3 = VFMA(v, VSET1(sc[3 * (size_t) len + x]), a3);
            a4 = VFMA(v, VSET1(sc[4 * (size_t) len + x]), a4);
            a5 = VFMA(v, VSET1(sc[5 * (size_t) len + x]), a5);
            a6 = VFMA(v, VSET1(sc[6 * (size_t) len + x]), a6);
            a7 = VFMA(v, VSET1(sc[7 * (size_t) len + x]), a7);
        }
        VT a[8] = {a0, a1, a2, a3, a4, a5, a6, a7};
        for (int h = 0; h < nh; h++) {
            VSTORE(out[h] + dv, VMUL(a[h], VSET1(inv[h])));
        }
    }
}

/* out[dv] = (sum over slots s in [0, total) of value[s][dv], added in order from +0) * (1 / total). */
TARGET static void FN(mean)(const void *cache, int headDim, int total, float *out) {
    const CT *values = (const CT *) cache;
    float inv = 1.0f / (float) total;
    for (int dv = 0; dv < headDim; dv += VW) {
        VT a = VZERO();
        for (int s = 0; s < total; s++) {
            a = VADD(CLOAD(values + (size_t) s * headDim + dv), a);
        }
        VSTORE(out + dv, VMUL(a, VSET1(inv)));
    }
}

#undef FN
#undef TARGET
#undef CT
#undef CLOAD
