/*
 * The body of amulet_attention.c for one vector width, included once per variant with these defined:
 *   FN(name)  the variant's name for a function; TARGET its target attribute (empty for plain C);
 *   VT, VW    the vector type and its lanes; VZERO(), VSET1(x), VLOAD(p), VSTORE(p, v), VFMA(a, b, c) = a * b + c
 *             rounded once, VADD(a, b), VMUL(a, b), VMAX(a, b) (the larger where neither is NaN);
 *   WEIGH_PAIRS 1 where the width has registers for two vectors of values per head (16 accumulators), else 0;
 *   WEIGH_AHEAD how many slots ahead the values' first pass asks for whole rows (prefetch);
 *   CT        the element type of the cache's keys and values (float, or uint16_t for IEEE binary16), and CLOAD(p)
 *             the VW elements at p as float32 (VLOAD, or an exact widening of binary16: every half is a float32),
 *             so a float16 cache gives the bits of a float32 cache holding the same values.
 * Every output element is computed by one chain of these operations in the order amulet_attention.c describes,
 * whatever the width: the variants give the same bits. The body undefines FN, TARGET, CT and CLOAD at its end, so the
 * same width can be included again for the other cache type (amulet_attention.c undefines the width's macros).
 */

/*
 * Scores of the first nh (1..8) of eight heads (q[0..7]) of one query for the slots of whole tiles [base, base + len)
 * into sc[h * len + x]: for each slot the chain a = fma(key[d], q[d], a) over d from 0, from +0. Inlined with a
 * constant nh (FN(scores) below), so a key head serving seven heads (Qwen2.5) or four (Llama 3) computes those and no
 * more; rows nh .. 7 of sc are left as they were.
 */
TARGET static inline __attribute__((always_inline)) void FN(scores_heads)(const void *cache, int tile, int headDim,
                                                                          const float *const *q, int base, int len,
                                                                          float *sc, const int nh) {
    const CT *keys = (const CT *) cache;
    for (int s = 0; s < len; s += tile) {
        const CT *t = keys + (size_t) (base + s) * headDim;
        for (int c = 0; c < tile; c += VW) {
            VT a0 = VZERO(), a1 = VZERO(), a2 = VZERO(), a3 = VZERO();
            VT a4 = VZERO(), a5 = VZERO(), a6 = VZERO(), a7 = VZERO();
            for (int d = 0; d < headDim; d++) {
                /* the same line of the next tile (a tile of float32 keys, 64 x 16, is a page of 4 KiB, where the
                 * hardware prefetchers stop) */
                __builtin_prefetch(t + (size_t) tile * headDim + (size_t) d * tile + c);
                VT k = CLOAD(t + (size_t) d * tile + c);
                a0 = VFMA(k, VSET1(q[0][d]), a0);
                if (nh > 1) a1 = VFMA(k, VSET1(q[1][d]), a1);
                if (nh > 2) a2 = VFMA(k, VSET1(q[2][d]), a2);
                if (nh > 3) a3 = VFMA(k, VSET1(q[3][d]), a3);
                if (nh > 4) a4 = VFMA(k, VSET1(q[4][d]), a4);
                if (nh > 5) a5 = VFMA(k, VSET1(q[5][d]), a5);
                if (nh > 6) a6 = VFMA(k, VSET1(q[6][d]), a6);
                if (nh > 7) a7 = VFMA(k, VSET1(q[7][d]), a7);
            }
            float *o = sc + s + c;
            VSTORE(o, a0);
            if (nh > 1) VSTORE(o + len, a1);
            if (nh > 2) VSTORE(o + 2 * (size_t) len, a2);
            if (nh > 3) VSTORE(o + 3 * (size_t) len, a3);
            if (nh > 4) VSTORE(o + 4 * (size_t) len, a4);
            if (nh > 5) VSTORE(o + 5 * (size_t) len, a5);
            if (nh > 6) VSTORE(o + 6 * (size_t) len, a6);
            if (nh > 7) VSTORE(o + 7 * (size_t) len, a7);
        }
    }
}

TARGET static void FN(scores)(const void *cache, int tile, int headDim, const float *const *q, int base, int len,
                              float *sc, int nh) {
#define SCORES_HEADS(k) FN(scores_heads)(cache, tile, headDim, q, base, len, sc, k)
    BY_HEADS(nh, SCORES_HEADS);
#undef SCORES_HEADS
}

/*
 * out[h][dv] = (chain over slots x in [from, to) of fma(value[x][dv], w[h][x], a), from +0) * inv[h] for the first
 * nh (1..8) of eight weight rows w[h] = sc + h * len (relative to slot base), for the dimensions of one vector at dv,
 * or of two (pair != 0: dv and dv + VW, each weight broadcast once for both); inlined with constant nh and pair.
 */
TARGET static inline __attribute__((always_inline)) void FN(weigh_block)(const CT *values, int headDim, int base,
                                                                         int from, int to, const float *sc, int len,
                                                                         const float *inv, float *const *out,
                                                                         int dv, const int nh, const int pair) {
    VT a0 = VZERO(), a1 = VZERO(), a2 = VZERO(), a3 = VZERO();
    VT a4 = VZERO(), a5 = VZERO(), a6 = VZERO(), a7 = VZERO();
    VT b0 = VZERO(), b1 = VZERO(), b2 = VZERO(), b3 = VZERO();
    VT b4 = VZERO(), b5 = VZERO(), b6 = VZERO(), b7 = VZERO();
    for (int x = from; x < to; x++) {
        const CT *row = values + (size_t) (base + x) * headDim + dv;
        if (dv == 0) {
            /* the first pass asks for whole rows ahead: the later passes find them in the cache */
            const char *ahead = (const char *) (values + (size_t) (base + x + WEIGH_AHEAD) * headDim);
            for (size_t o = 0; o < (size_t) headDim * sizeof(CT); o += 64) {
                __builtin_prefetch(ahead + o);
            }
        }
        VT v = CLOAD(row);
        VT w = pair ? CLOAD(row + VW) : v;
        VT s;
#define WEIGH_HEAD(h, a, b)                                                                                           \
        if (nh > h) {                                                                                                 \
            s = VSET1(sc[(size_t) h * len + x]);                                                                      \
            a = VFMA(v, s, a);                                                                                        \
            if (pair) b = VFMA(w, s, b);                                                                              \
        }
        WEIGH_HEAD(0, a0, b0)
        WEIGH_HEAD(1, a1, b1)
        WEIGH_HEAD(2, a2, b2)
        WEIGH_HEAD(3, a3, b3)
        WEIGH_HEAD(4, a4, b4)
        WEIGH_HEAD(5, a5, b5)
        WEIGH_HEAD(6, a6, b6)
        WEIGH_HEAD(7, a7, b7)
#undef WEIGH_HEAD
    }
#define WEIGH_STORE(h, a, b)                                                                                          \
    if (nh > h) {                                                                                                     \
        VSTORE(out[h] + dv, VMUL(a, VSET1(inv[h])));                                                                  \
        if (pair) VSTORE(out[h] + dv + VW, VMUL(b, VSET1(inv[h])));                                                   \
    }
    WEIGH_STORE(0, a0, b0)
    WEIGH_STORE(1, a1, b1)
    WEIGH_STORE(2, a2, b2)
    WEIGH_STORE(3, a3, b3)
    WEIGH_STORE(4, a4, b4)
    WEIGH_STORE(5, a5, b5)
    WEIGH_STORE(6, a6, b6)
    WEIGH_STORE(7, a7, b7)
#undef WEIGH_STORE
}

/* FN(weigh_block) over every dimension: in pairs of vectors where the width's registers hold them (WEIGH_PAIRS). */
TARGET static inline __attribute__((always_inline)) void FN(weigh_heads)(const void *cache, int headDim, int base,
                                                                         int from, int to, const float *sc, int len,
                                                                         const float *inv, float *const *out,
                                                                         const int nh) {
    const CT *values = (const CT *) cache;
    int dv = 0;
    for (; WEIGH_PAIRS && dv + 2 * VW <= headDim; dv += 2 * VW) {
        FN(weigh_block)(values, headDim, base, from, to, sc, len, inv, out, dv, nh, 1);
    }
    for (; dv < headDim; dv += VW) {
        FN(weigh_block)(values, headDim, base, from, to, sc, len, inv, out, dv, nh, 0);
    }
}

TARGET static void FN(weigh)(const void *cache, int headDim, int base, int from, int to, const float *sc, int len,
                             const float *inv, float *const *out, int nh) {
#define WEIGH_HEADS(k) FN(weigh_heads)(cache, headDim, base, from, to, sc, len, inv, out, k)
    BY_HEADS(nh, WEIGH_HEADS);
#undef WEIGH_HEADS
}

#ifdef BODY_ROWMAX
/*
 * row_max (amulet_attention.c) of row[0, n), n >= 1, on vectors: the same value, and the same bits. Without a NaN or
 * an infinity in the row (checked by the sum of every element times zero, NaN where one is), the largest value is
 * unique in its bits unless it is a zero; a zero maximum (whose sign is the first zero's in the scalar scan), a NaN or
 * an infinity takes the scalar scan. Scores are float32 whatever the cache holds: defined with the float32
 * cache's include only (BODY_ROWMAX), the binary16 one shares it.
 */
TARGET static float FN(rowmax)(const float *row, int n) {
    if (n < 2 * VW) {
        return row_max(row, n);
    }
    VT m = VLOAD(row);
    VT zero = VZERO();
    VT bad = VMUL(m, zero);
    int x = VW;
    for (; x + VW <= n; x += VW) {
        VT v = VLOAD(row + x);
        m = VMAX(m, v);
        bad = VADD(bad, VMUL(v, zero));
    }
    float lanes[VW], flags[VW];
    VSTORE(lanes, m);
    VSTORE(flags, bad);
    float r = lanes[0];
    for (int i = 0; i < VW; i++) {
        if (flags[i] != 0.0f) {
            return row_max(row, n);
        }
        if (lanes[i] > r) {
            r = lanes[i];
        }
    }
    for (; x < n; x++) {
        float v = row[x];
        if (v - v != 0.0f) {
            return row_max(row, n);
        }
        if (v > r) {
            r = v;
        }
    }
    return r == 0.0f ? row_max(row, n) : r;
}

#endif

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
#undef BODY_ROWMAX
#undef CLOAD
