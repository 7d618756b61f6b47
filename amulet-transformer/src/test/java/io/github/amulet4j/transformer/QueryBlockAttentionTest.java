package io.github.amulet4j.transformer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * {@link QueryBlockAttention} against softmax attention computed naively in float64 from the same keys, values and
 * queries, for blocks of one to four queries, seven and eight heads of a key head, a first visible slot inside a tile
 * (padding), histories ending inside a tile and spanning several value blocks.
 */
class QueryBlockAttentionTest {

    private static final int HEAD_DIM = 64;

    @Test
    void matchesSoftmaxAttentionInFloat64() {
        assertTrue(QueryBlockAttention.applies(HEAD_DIM));
        int heads = 8;
        int rows = 4;
        AttentionInputs s = AttentionInputs.random(HEAD_DIM, 700, heads, rows, 0.2, 11);
        int qDim = s.qDim();
        int qkvDim = s.qkvDim();
        QueryBlockAttention block = new QueryBlockAttention(HEAD_DIM, qkvDim, qDim, 0f);
        int[][] cases = {{0, 4, 7, 0, 650}, {1, 3, 8, 5, 696}, {0, 1, 7, 17, 40}, {2, 2, 6, 0, 130}, {0, 4, 8, 33, 3}};
        for (int[] c : cases) {
            int i0 = c[0], n = c[1], count = c[2], lo = c[3], query0 = c[4];
            float[] attn = new float[rows * qDim];
            block.attend(s.keys(), s.values(), s.qkv(), attn, i0, n, 0, count, lo, query0);
            for (int j = 0; j < n; j++) {
                for (int h = 0; h < count; h++) {
                    double[] want = AttentionReference.naive(s.plainKeys(), s.values(), s.qkv(),
                            (i0 + j) * qkvDim + h * HEAD_DIM, lo, query0 + j, HEAD_DIM);
                    for (int d = 0; d < HEAD_DIM; d++) {
                        assertEquals(want[d], attn[(i0 + j) * qDim + h * HEAD_DIM + d], 1e-5,
                                "case " + java.util.Arrays.toString(c) + ", query " + j + ", head " + h + ", dim " + d);
                    }
                }
            }
        }
    }
}
