package io.github.amulet4j.transformer;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Elementwise and reduction loops on float arrays for {@link JavaForward}: each works on {@code n} values from an
 * offset. The loops a pass runs a few times a row (norms, residual and bias adds, scaling, the MLP's gate product)
 * are plain float loops: the Vector API is fast only once C2 has compiled a loop, and until then (the whole first
 * prefill of a fresh JVM) each vector operation is interpreted and allocates, while a plain loop is fast from C1 on
 * and C2 vectorizes the elementwise ones itself. Elementwise loops give the bits a vector loop gave; the sums are
 * eight partial sums in a fixed order, the same bits on every CPU. {@link #max} and {@link #axpy} (the Java
 * attention's, which the native library replaces where it is loaded) stay on the Vector API: needs
 * {@code --add-modules jdk.incubator.vector} (see {@link VectorSupport}).
 */
final class VectorOps {

    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();

    private VectorOps() {
    }

    /**
     * {@code sum a[i]^2}: eight partial sums {@code s_j} of the values {@code i = j (mod 8)} by fma, in order (the
     * tail into {@code s_0}), then {@code ((s_0 + s_1) + (s_2 + s_3)) + ((s_4 + s_5) + (s_6 + s_7))}.
     */
    static float sumOfSquares(float[] a, int off, int n) {
        return sumOfSquaredDeviations(a, off, n, 0f);
    }

    /** {@code sum a[i]}, in {@link #sumOfSquares}'s order. */
    static float sum(float[] a, int off, int n) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
        int end = off + n;
        int i = off;
        for (; i <= end - 8; i += 8) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
            s4 += a[i + 4];
            s5 += a[i + 5];
            s6 += a[i + 6];
            s7 += a[i + 7];
        }
        for (; i < end; i++) {
            s0 += a[i];
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /** {@code max a[i]}. */
    static float max(float[] a, int off, int n) {
        FloatVector acc = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int i = 0;
        for (; i <= n - L; i += L) {
            acc = acc.max(FloatVector.fromArray(S, a, off + i));
        }
        float m = acc.reduceLanes(VectorOperators.MAX);
        for (; i < n; i++) {
            m = Math.max(m, a[off + i]);
        }
        return m;
    }

    /**
     * {@code a[i] = exp(a[i] - shift)} ({@link #exp(float)}), returns their sum (four partial sums, added pairwise).
     * Plain float arithmetic on purpose, no Vector API: a vector loop here stayed boxed in some JVMs (hundreds of KB
     * allocated a decode step, DecodeStepAllocationTest). The JDK's shared Vector API methods (an {@code IntVector}
     * shift's cast, {@code VectorPayload.getPayload}) collect class-check traps from every vector shape the process
     * uses, and once their count is high C2 stops speculating there and compiles this loop's vectors as objects; which
     * JVM gets there depends on the compile queue's timing. A score costs about 2.7 ns this way; rows of
     * {@value NativeExp#MIN_LENGTH} scores or more go to the native library where it is loaded
     * ({@link NativeExp}: the same operations, the same bits, about ten times faster). See
     * src-docs/benchmarks-decode.md, "A decode step that allocated in some JVMs".
     */
    static float expShifted(float[] a, int off, int n, float shift) {
        if (n >= NativeExp.MIN_LENGTH && NativeExp.available()) {
            return NativeExp.expShifted(a, off, n, shift);
        }
        return expShiftedJava(a, off, n, shift);
    }

    /** {@link #expShifted} in Java, the reference the native loop must equal bit for bit. */
    static float expShiftedJava(float[] a, int off, int n, float shift) {
        int end = off + n;
        // the exponentials first, then their sum: 1.7x faster than one loop doing both (2.7 against 4.5 ns a value)
        for (int i = off; i < end; i++) {
            a[i] = exp(a[i] - shift);
        }
        float s0 = 0f;
        float s1 = 0f;
        float s2 = 0f;
        float s3 = 0f;
        int i = off;
        for (; i <= end - 4; i += 4) {
            s0 += a[i];
            s1 += a[i + 1];
            s2 += a[i + 2];
            s3 += a[i + 3];
        }
        for (; i < end; i++) {
            s0 += a[i];
        }
        return (s0 + s1) + (s2 + s3);
    }

    private static final float LOG2E = 1.44269504f;
    /** ln 2 in two parts (the first exact in few bits), for the reduction {@code x - k ln 2}. */
    private static final float LN2_HI = 0.693359375f;
    private static final float LN2_LO = -2.12194440e-4f;
    /**
     * Adding and subtracting it rounds a float below 2^22 to the nearest integer {@code k}; the sum's bits are
     * {@code 0x4B400000 + k}, so {@code 2^k}'s bits are {@code (bits + EXP_BIAS) << 23}.
     */
    private static final float ROUND = 12582912f;
    private static final int EXP_BIAS = 127 - 0x4B400000;
    private static final float EXP_MIN = -87.33654f;
    /** Below 128 ln 2: {@code 2^k} stays finite. */
    private static final float EXP_MAX = 88f;
    private static final float P0 = 1.9875691500e-4f;
    private static final float P1 = 1.3981999507e-3f;
    private static final float P2 = 8.3334519073e-3f;
    private static final float P3 = 4.1665795894e-2f;
    private static final float P4 = 1.6666665459e-1f;
    private static final float P5 = 5.0000001201e-1f;

    /**
     * {@code e^x} to within 2 ulp (Cephes' {@code expf}: {@code x = k ln 2 + r}, a degree-7 polynomial in {@code r},
     * {@code 2^k} from the exponent bits; inputs clamped to {@code [-87.3, 88]}), by plain float arithmetic only, so
     * a value has the same bits in every JIT tier (the Vector API's {@code EXP} is a vector math library's once
     * compiled and {@code Math.exp} per lane before: its bits depended on how warm the JIT was, and a prompt's logits
     * on its chunks).
     */
    static float exp(float x) {
        // clamped by comparisons, not Math.min/max (their NaN and -0.0 rules cost a few instructions each); the
        // same values: NaN stays NaN, -0.0 stays -0.0
        float c = x < EXP_MIN ? EXP_MIN : x;
        c = c > EXP_MAX ? EXP_MAX : c;
        float kr = c * LOG2E + ROUND;
        float k = kr - ROUND;
        float r = Math.fma(k, -LN2_HI, c);
        r = Math.fma(k, -LN2_LO, r);
        float p = Math.fma(r, P0, P1);
        p = Math.fma(p, r, P2);
        p = Math.fma(p, r, P3);
        p = Math.fma(p, r, P4);
        p = Math.fma(p, r, P5);
        p = p * (r * r) + r + 1f;
        return p * Float.intBitsToFloat((Float.floatToRawIntBits(kr) + EXP_BIAS) << 23);
    }


    /** {@code y[i] += alpha * x[i]}. */
    static void axpy(float alpha, float[] x, int xOff, float[] y, int yOff, int n) {
        FloatVector al = FloatVector.broadcast(S, alpha);
        int i = 0;
        for (; i <= n - L; i += L) {
            FloatVector.fromArray(S, x, xOff + i).fma(al, FloatVector.fromArray(S, y, yOff + i)).intoArray(y, yOff + i);
        }
        for (; i < n; i++) {
            y[yOff + i] += alpha * x[xOff + i];
        }
    }

    /** {@code y[i] += x[i]}. */
    static void add(float[] x, int xOff, float[] y, int yOff, int n) {
        for (int i = 0; i < n; i++) {
            y[yOff + i] += x[xOff + i];
        }
    }

    /** {@code a[i] *= s}. */
    static void scale(float[] a, int off, int n, float s) {
        for (int i = off; i < off + n; i++) {
            a[i] *= s;
        }
    }

    /** {@code out[i] = x[i] * s * w[i]} (a norm's scaling by its weight). */
    static void scaleByWeight(float[] x, int xOff, float s, float[] w, float[] out, int outOff, int n) {
        for (int i = 0; i < n; i++) {
            out[outOff + i] = x[xOff + i] * s * w[i];
        }
    }

    /** {@code out[i] = fma((x[i] - mean) * s, w[i], b[i])} (LayerNorm's last step). */
    static void centerScaleShift(float[] x, int xOff, float mean, float s, float[] w, float[] b, float[] out,
                                 int outOff, int n) {
        for (int i = 0; i < n; i++) {
            out[outOff + i] = Math.fma((x[xOff + i] - mean) * s, w[i], b[i]);
        }
    }

    /** {@code sum (a[i] - mean)^2}, in {@link #sumOfSquares}'s order (each term by fma). */
    static float sumOfSquaredDeviations(float[] a, int off, int n, float mean) {
        float s0 = 0f, s1 = 0f, s2 = 0f, s3 = 0f, s4 = 0f, s5 = 0f, s6 = 0f, s7 = 0f;
        int end = off + n;
        int i = off;
        for (; i <= end - 8; i += 8) {
            float v0 = a[i] - mean;
            float v1 = a[i + 1] - mean;
            float v2 = a[i + 2] - mean;
            float v3 = a[i + 3] - mean;
            float v4 = a[i + 4] - mean;
            float v5 = a[i + 5] - mean;
            float v6 = a[i + 6] - mean;
            float v7 = a[i + 7] - mean;
            s0 = Math.fma(v0, v0, s0);
            s1 = Math.fma(v1, v1, s1);
            s2 = Math.fma(v2, v2, s2);
            s3 = Math.fma(v3, v3, s3);
            s4 = Math.fma(v4, v4, s4);
            s5 = Math.fma(v5, v5, s5);
            s6 = Math.fma(v6, v6, s6);
            s7 = Math.fma(v7, v7, s7);
        }
        for (; i < end; i++) {
            float v = a[i] - mean;
            s0 = Math.fma(v, v, s0);
        }
        return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));
    }

    /**
     * {@code a[i] = a[i] * sigmoid(a[i])} (SiLU), in place, as {@code x / (1 + e^(-x))} on {@link #exp(float)}: plain
     * float arithmetic, the same bits in every JIT tier, as {@link #expShifted} says why no vector loop
     * ({@code Math.exp} element by element, before, cost about 5 ns a value).
     */
    static void silu(float[] a, int off, int n) {
        if (!NativeExp.tryActivate(NativeExp.SILU, a, off, n)) {
            siluJava(a, off, n);
        }
    }

    /** {@link #silu} in Java, the reference the native loop must equal bit for bit. */
    static void siluJava(float[] a, int off, int n) {
        for (int i = off; i < off + n; i++) {
            float v = a[i];
            a[i] = v / (exp(-v) + 1f);
        }
    }

    private static final float GELU_CUBIC = 0.044715f;
    /** {@code -2 sqrt(2 / pi)}: GELU's {@code 1 + tanh(u)} is {@code 2 sigmoid(2u)}, {@code 2u} this times the inner sum. */
    private static final float GELU_NEG_2C = (float) (-2 * Math.sqrt(2.0 / Math.PI));

    /**
     * GELU with the tanh approximation ({@code gelu_new}, {@code 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))}), in
     * place, written as {@code x / (1 + e^(-2u))} (the same function, without the cancellation of {@code 1 + tanh} for
     * negative {@code x}) on {@link #exp(float)}. {@code Math.tanh} element by element (a native call per value on
     * JDK 17, about 24 ns) took a sixth of a Gemma decode step.
     */
    static void geluTanh(float[] a, int off, int n) {
        if (!NativeExp.tryActivate(NativeExp.GELU_TANH, a, off, n)) {
            geluTanhJava(a, off, n);
        }
    }

    /** {@link #geluTanh} in Java, the reference the native loop must equal bit for bit. */
    static void geluTanhJava(float[] a, int off, int n) {
        for (int i = off; i < off + n; i++) {
            float x = a[i];
            float t = (x * x * x * GELU_CUBIC + x) * GELU_NEG_2C;
            a[i] = x / (exp(t) + 1f);
        }
    }

    /** Below this magnitude {@link #tanh(float)} takes the odd polynomial, above it the exponential. */
    private static final float TANH_SMALL = 0.625f;
    private static final float T0 = -5.70498872745e-3f;
    private static final float T1 = 2.06390887954e-2f;
    private static final float T2 = -5.37397155531e-2f;
    private static final float T3 = 1.33314422036e-1f;
    private static final float T4 = -3.33332819422e-1f;

    /**
     * {@code tanh(x)} to within a few float ulp (Cephes' {@code tanhf}: an odd polynomial below {@code |x| = 0.625},
     * {@code 1 - 2 / (e^(2x) + 1)} on {@link #exp(float)} above), by plain float arithmetic only.
     */
    static float tanh(float x) {
        if (Math.abs(x) < TANH_SMALL) {
            float z = x * x;
            float p = Math.fma(z, T0, T1);
            p = Math.fma(p, z, T2);
            p = Math.fma(p, z, T3);
            p = Math.fma(p, z, T4);
            return Math.fma(p * z, x, x);
        }
        return 1f - 2f / (exp(x + x) + 1f);
    }

    /** {@code a[i] = cap * tanh(a[i] / cap)}, in place ({@link #tanh(float)}). */
    static void softCap(float[] a, int off, int n, float cap) {
        for (int i = off; i < off + n; i++) {
            a[i] = cap * tanh(a[i] / cap);
        }
    }

    /** GELU with the error function ({@code gelu}), in place. */
    static void geluErf(float[] a, int off, int n) {
        double invSqrt2 = 1.0 / Math.sqrt(2.0);
        for (int i = 0; i < n; i++) {
            double x = a[off + i];
            a[off + i] = (float) (0.5 * x * (1 + erf(x * invSqrt2)));
        }
    }

    /** {@code max(a[i], 0)}, in place. */
    static void relu(float[] a, int off, int n) {
        for (int i = off; i < off + n; i++) {
            a[i] = Math.max(a[i], 0f);
        }
    }

    /** {@code a[i] *= b[i]}. */
    static void multiply(float[] a, int aOff, float[] b, int bOff, int n) {
        for (int i = 0; i < n; i++) {
            a[aOff + i] *= b[bOff + i];
        }
    }

    /**
     * The error function to within 1.2e-7 everywhere (Numerical Recipes' {@code erfc} by a Chebyshev fit of
     * {@code exp(-z^2)} times a polynomial in {@code 1 / (1 + z / 2)}).
     */
    static double erf(double x) {
        double z = Math.abs(x);
        double t = 1.0 / (1.0 + 0.5 * z);
        double erfc = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418
                + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587
                + t * (-0.82215223 + t * 0.17087277)))))))));
        return x >= 0 ? 1 - erfc : erfc - 1;
    }
}
