/*
 * The softmax's exponentials of amulet_exp.c, for the other files of the library (amulet_attention.c): the same
 * operations, the same bits as NativeExp.expShifted and the Java loop VectorOps.expShiftedJava.
 */
#ifndef AMULET_EXP_H
#define AMULET_EXP_H

/*
 * The variant amulet_exp_shifted runs: 0 none (no AVX2 with FMA: do not call it), 1 AVX2 with FMA (on aarch64: NEON),
 * 2 AVX-512F.
 */
int amulet_exp_variant(void);

/* row[0, n) = exp(row - shift); returns their sum (four partial sums, see amulet_exp.c). */
float amulet_exp_shifted(float *row, int n, float shift);

#endif
