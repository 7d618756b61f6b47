package io.github.amulet4j.transformer;

/**
 * Attention of a prefill's queries in the native library ({@code src/main/c/amulet_attention.c}, loaded with the
 * native kernels): for queries of one row and heads of one key head, the scores over the key cache, the softmax (the
 * exponentials of {@link NativeExp}) and the weighted sum of the values, with AVX-512F or AVX2 and FMA (NEON on
 * aarch64). Each output
 * is the same chain of float operations as in {@link JavaForward}'s Java paths and {@link QueryBlockAttention}, so it
 * has the same bits with or without the library (NativeAttentionTest). Why: the Java paths run on the Vector API,
 * which is interpreted, allocating an object per vector operation, until C2 has compiled them, that is for the whole
 * first prefill of a fresh JVM (about a third of a first 66-token prefill on the Qwen2.5-0.5B shape); this code runs
 * at full speed from its first call. Without the library or AVX2 with FMA, for heads or tiles not made of whole
 * 8-float vectors, and with attention logit soft-capping (Gemma 2), the Java paths run.
 *
 * <p>The cache's arrays are float32 ({@code float[]}) or binary16 bits ({@code short[]}, a
 * {@link KvCachePrecision#F16} cache): the second are widened exactly (F16C's {@code vcvtph2ps}, NEON's
 * {@code fcvtl}) and then go through the same code, so they give the bits of a float32 cache holding the same values.
 */
final class NativeAttention {

    private static final boolean LINKED = NativeExp.available() && link();

    private NativeAttention() {
    }

    private static boolean link() {
        try {
            // a library built before amulet_attention.c has no such function
            attend(new float[8], new float[8], new float[8], new float[8], new float[64], 8, 8, 8, 8, 0, 0, 0, 0, 1,
                    0, Integer.MAX_VALUE, 1);
            attendPartial(new float[8], new float[8], new float[8], new float[8], new float[16], new float[64], 8, 8,
                    0, 1, 0, 1, 0, 0);
            // nor, before the float16 cache, these
            attendHalf(new short[8], new short[8], new float[8], new float[8], new float[64], 8, 8, 8, 8, 0, 0, 0, 0,
                    1, 0, Integer.MAX_VALUE, 1);
            attendPartialHalf(new short[8], new short[8], new float[8], new float[8], new float[16], new float[64], 8,
                    8, 0, 1, 0, 1, 0, 0);
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    /** Whether the library attends for heads of {@code headDim} over key tiles of {@code tile} slots. */
    static boolean applies(int headDim, int tile) {
        return LINKED && headDim % 8 == 0 && tile % 8 == 0;
    }

    /**
     * Queries at chunk rows {@code i0 .. i0 + n - 1} (slots {@code query0 ..}) of one row, heads
     * {@code [first, first + count)} of the key head whose cache arrays are {@code keys} (tiles of {@code tile} slots,
     * {@link JavaKvCache#keyIndex}) and {@code values} (both {@code float[]}, or both {@code short[]} of binary16
     * bits), each query seeing slots from
     * {@code max(pad, query - window + 1)} (none: the mean of the values of all {@code total} slots); reads the rotated
     * queries from {@code qkv} (rows of {@code qkvDim}), writes {@code attn} (rows of {@code qDim}).
     *
     * @param scratch at least {@code 8 * (total + tile)} floats
     * @throws IllegalArgumentException if an array is too short for what the call reads or writes, or the cache
     *                                  arrays are not both {@code float[]} or both {@code short[]}
     */
    static void attendChecked(Object keys, Object values, float[] qkv, float[] attn, float[] scratch, int headDim,
                              int tile, int qkvDim, int qDim, int i0, int n, int query0, int first, int count, int pad,
                              int window, int total) {
        int lastQuery = query0 + n - 1;
        long tiles = ((long) lastQuery + tile) / tile;
        boolean half = half(keys, values);
        if (n < 1 || count < 1 || lastQuery >= total || query0 < 0 || i0 < 0
                || (long) length(values) < (long) total * headDim || (long) length(keys) < tiles * tile * headDim
                || (long) qkv.length < (long) (i0 + n) * qkvDim || (long) attn.length < (long) (i0 + n) * qDim
                || (long) (first + count) * headDim > qDim || (long) scratch.length < 8L * (total + tile)) {
            throw new IllegalArgumentException("attention of queries " + query0 + ".." + lastQuery + " (rows " + i0
                    + ".." + (i0 + n - 1) + ", heads " + first + ".." + (first + count - 1) + ") over " + total
                    + " slots: keys " + length(keys) + ", values " + length(values) + ", qkv " + qkv.length + ", attn "
                    + attn.length + ", scratch " + scratch.length + " elements are too few");
        }
        if (half) {
            attendHalf((short[]) keys, (short[]) values, qkv, attn, scratch, headDim, tile, qkvDim, qDim, i0, n, query0,
                    first, count, pad, window, total);
        } else {
            attend((float[]) keys, (float[]) values, qkv, attn, scratch, headDim, tile, qkvDim, qDim, i0, n, query0,
                    first, count, pad, window, total);
        }
    }

    /**
     * A partial of a decode step's split-slot attention ({@link JavaForward}'s {@code splitAttention}): heads
     * {@code [0, count)} ({@code count <= 8}) whose rotated queries start at {@code qkv[q]} (one after the other), over
     * slots {@code [from, to)} of one key head's {@code keys} (tiles of {@code tile} slots) and {@code values}. Writes
     * per head the unnormalized sum of {@code exp(score - max) * value} at {@code partialValues[out + h * headDim]},
     * the maximum at {@code partialStats[at + h]} and the sum of exponentials at {@code partialStats[at + 8 + h]}
     * (heads {@code count .. 7} of the statistics repeat the last): the bits of the Java path.
     *
     * @param scratch at least {@code 8 * (to - from + 2 * tile)} floats
     * @throws IllegalArgumentException if the range is empty or an array is too short for what the call reads or
     *                                  writes, or the cache arrays are not both {@code float[]} or both
     *                                  {@code short[]}
     */
    static void attendPartialChecked(Object keys, Object values, float[] qkv, float[] partialValues,
                                     float[] partialStats, float[] scratch, int headDim, int tile, int q, int count,
                                     int from, int to, int out, int at) {
        long tiles = ((long) to - 1 + tile) / tile;
        long len = ((long) to - (from - from % tile) + tile - 1) / tile * tile;
        boolean half = half(keys, values);
        if (from < 0 || to <= from || count < 1 || count > 8 || q < 0 || out < 0 || at < 0
                || (long) length(values) < (long) to * headDim || (long) length(keys) < tiles * tile * headDim
                || (long) qkv.length < q + (long) count * headDim
                || (long) partialValues.length < out + (long) count * headDim
                || (long) partialStats.length < at + 16L || (long) scratch.length < 8 * len) {
            throw new IllegalArgumentException("partial attention of heads 0.." + (count - 1) + " over slots " + from
                    + ".." + (to - 1) + ": keys " + length(keys) + ", values " + length(values) + ", qkv " + qkv.length
                    + " (from " + q + "), partial values " + partialValues.length + " (from " + out
                    + "), partial stats " + partialStats.length + " (from " + at + "), scratch " + scratch.length
                    + " elements: an empty range or too few elements");
        }
        if (half) {
            attendPartialHalf((short[]) keys, (short[]) values, qkv, partialValues, partialStats, scratch, headDim,
                    tile, q, count, from, to, out, at);
        } else {
            attendPartial((float[]) keys, (float[]) values, qkv, partialValues, partialStats, scratch, headDim, tile,
                    q, count, from, to, out, at);
        }
    }

    /** Whether {@code keys} and {@code values} are both binary16 ({@code short[]}); false: both {@code float[]}. */
    private static boolean half(Object keys, Object values) {
        if (keys instanceof float[] && values instanceof float[]) {
            return false;
        }
        if (keys instanceof short[] && values instanceof short[]) {
            return true;
        }
        throw new IllegalArgumentException("keys and values must be both float[] (float32) or both short[] (binary16), "
                + "got " + type(keys) + " and " + type(values));
    }

    private static String type(Object array) {
        return array == null ? "null" : array.getClass().getSimpleName();
    }

    private static int length(Object array) {
        return array instanceof float[] f ? f.length : ((short[]) array).length;
    }

    private static native void attendPartial(float[] keys, float[] values, float[] qkv, float[] partialValues,
                                             float[] partialStats, float[] scratch, int headDim, int tile, int q,
                                             int count, int from, int to, int out, int at);

    private static native void attend(float[] keys, float[] values, float[] qkv, float[] attn, float[] scratch,
                                      int headDim, int tile, int qkvDim, int qDim, int i0, int n, int query0,
                                      int first, int count, int pad, int window, int total);

    private static native void attendPartialHalf(short[] keys, short[] values, float[] qkv, float[] partialValues,
                                                 float[] partialStats, float[] scratch, int headDim, int tile, int q,
                                                 int count, int from, int to, int out, int at);

    private static native void attendHalf(short[] keys, short[] values, float[] qkv, float[] attn, float[] scratch,
                                          int headDim, int tile, int qkvDim, int qDim, int i0, int n, int query0,
                                          int first, int count, int pad, int window, int total);
}
