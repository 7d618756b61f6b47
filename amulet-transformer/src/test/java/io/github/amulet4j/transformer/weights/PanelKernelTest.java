package io.github.amulet4j.transformer.weights;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The blocked many-column kernel ({@link PanelKernel}, {@link WeightMatrix#multiply} with
 * {@value WeightKernels#PANEL_COLUMNS} or more columns) at its edges: rows that are not a multiple of the register
 * tile nor of a block, inputs that are not a multiple of a vector, columns that are not a multiple of a panel, row
 * ranges that start and end mid-matrix; against a naive double-precision loop and against the previous kernels.
 */
class PanelKernelTest {

    private static final int[] COLUMNS = {1, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 65};

    @Test
    void tileRowColumnAndInputEdgesMatchTheNaiveProduct() {
        Random random = new Random(5);
        // rows: below one tile, one tile plus one, several blocks of tiles with a short last tile
        int[][] shapes = {{1, 64}, {11, 96}, {13, 32}, {25, 160}, {203, 128}};
        for (WeightFormat f : WeightKernelsTest.convertible()) {
            for (int[] shape : shapes) {
                check(f, shape[0], shape[1], random);
            }
            if (!f.quantized()) {
                check(f, 14, 13, random);   // inputs shorter than a vector
                check(f, 29, 47, random);   // a vector and a tail
                check(f, 37, 200, random);  // chunks of a vector and a tail
            }
        }
    }

    private static void check(WeightFormat f, int rows, int in, Random random) {
        WeightMatrix m = WeightMatrix.of(f, RandomValues.gaussian(random, rows * in), rows, in);
        float[] w = m.toFloatArray();
        for (int n : COLUMNS) {
            float[] x = RandomValues.gaussian(random, n * in);
            float[] want = WeightKernelsTest.naive(w, rows, in, x, n);
            // a range that starts and ends mid-matrix, then the rest in two calls
            int from = Math.min(rows - 1, 5);
            int to = Math.max(from + 1, rows - 3);
            float[] got = new float[n * rows];
            Arrays.fill(got, Float.NaN);
            m.multiply(x, n, got, from, to);
            for (int c = 0; c < n; c++) {
                for (int r = 0; r < rows; r++) {
                    boolean inside = r >= from && r < to;
                    assertEquals(!inside, Float.isNaN(got[c * rows + r]), f + " [" + rows + ", " + in + "], n " + n
                            + ", range [" + from + ", " + to + "): column " + c + ", row " + r + " written?");
                }
            }
            m.multiply(x, n, got, 0, from);
            m.multiply(x, n, got, to, rows);
            float[] before = new float[n * rows];
            WeightKernels.multiplyBaseline(m, x, n, before, 0, rows);
            for (int i = 0; i < want.length; i++) {
                float tol = 2e-6f * (1 + Math.abs(want[i])) * (float) Math.sqrt(in);
                String where = f + " [" + rows + ", " + in + "], n " + n + ", column " + i / rows + ", row " + i % rows;
                assertEquals(want[i], got[i], tol, where);
                assertEquals(before[i], got[i], 2 * tol, where + " against the previous kernels");
            }
        }
    }

    @Test
    void slabsThatCutTilesAndWrappedBytesAtAnOddOffsetEqualOneConvertedMatrix() {
        Random random = new Random(12);
        int rows = 50;
        int in = 96;
        for (WeightFormat f : WeightKernelsTest.convertible()) {
            float[] v = RandomValues.gaussian(random, rows * in);
            WeightMatrix one = WeightMatrix.of(f, v, rows, in);
            // slabs of 7 rows: every tile of 12 rows spans two or three slabs
            WeightMatrix cut = WeightMatrix.of(f, v, rows, in, (int) (7 * f.rowBytes(in)) + 1);
            ByteBuffer raw = ByteBuffer.allocateDirect((int) one.byteSize() + 3).order(ByteOrder.BIG_ENDIAN);
            for (int r = 0; r < rows; r++) {
                one.copyRow(r, raw, 3 + r * one.rowBytes());
            }
            raw.position(3);
            WeightMatrix wrapped = WeightMatrix.wrap(f, rows, in, raw);
            for (int n : new int[] {16, 40}) {
                float[] x = RandomValues.gaussian(random, n * in);
                float[] a = new float[n * rows];
                float[] b = new float[n * rows];
                float[] c = new float[n * rows];
                one.multiply(x, n, a, 0, rows);
                cut.multiply(x, n, b, 0, rows);
                wrapped.multiply(x, n, c, 0, rows);
                assertTrue(Arrays.equals(a, b), f + " slabs, n " + n);
                assertTrue(Arrays.equals(a, c), f + " wrapped, n " + n);
                float[] want = WeightKernelsTest.naive(one.toFloatArray(), rows, in, x, n);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], a[i], 2e-6f * (1 + Math.abs(want[i])) * (float) Math.sqrt(in), f + " " + i);
                }
            }
        }
    }

    /**
     * A column's result has the same bits whatever the number of columns beside it: every column count (one and two:
     * the decode kernels; 3 to 15: {@link FloatTile}; 16 and more: {@link PanelKernel}) against the column alone,
     * over inputs with a tail, with two vector lengths, and split into weight panels (more than
     * {@value WeightMatrix#SPLIT_COLS} inputs); the block formats against three columns (their one- and two-column
     * kernels sum per block).
     */
    @Test
    void aColumnsBitsDoNotDependOnTheColumnsBesideIt() {
        Random random = new Random(21);
        int[][] shapes = {{25, 96}, {13, 48}, {29, 47}, {14, 2 * WeightMatrix.PANEL_COLS + 3 * 32}};
        for (WeightFormat f : WeightKernelsTest.convertible()) {
            for (int[] shape : shapes) {
                int rows = shape[0];
                int in = shape[1];
                if (f.quantized() && in % f.blockWeights() != 0) {
                    continue;
                }
                WeightMatrix m = WeightMatrix.of(f, RandomValues.gaussian(random, rows * in), rows, in);
                int alone = f.quantized() ? 3 : 1;
                for (int n : COLUMNS) {
                    if (n < alone) {
                        continue;
                    }
                    float[] x = RandomValues.gaussian(random, n * in);
                    float[] got = new float[n * rows];
                    m.multiply(x, n, got, 0, rows);
                    for (int c = 0; c < n; c++) {
                        float[] one = new float[alone * in];
                        System.arraycopy(x, c * in, one, 0, in);
                        float[] want = new float[alone * rows];
                        m.multiply(one, alone, want, 0, rows);
                        for (int r = 0; r < rows; r++) {
                            assertEquals(Float.floatToRawIntBits(want[r]), Float.floatToRawIntBits(got[c * rows + r]),
                                    f + " [" + rows + ", " + in + "], " + n + " columns: column " + c + ", row " + r
                                            + " is " + got[c * rows + r] + ", alone " + want[r]);
                        }
                    }
                }
            }
        }
    }

    @Test
    void aTileWidenedInChunksHoldsEveryWeightOnceWhereAtSays() {
        Random random = new Random(8);
        for (WeightFormat f : WeightKernelsTest.convertible()) {
            int in = f.quantized() ? 96 : 53;
            int rows = 30;
            WeightMatrix m = WeightMatrix.of(f, RandomValues.gaussian(random, rows * in), rows, in);
            float[] w = m.toFloatArray();
            float[] tile = new float[(in + FloatVectorLanes.L - 1) / FloatVectorLanes.L * PanelKernel.CHUNK];
            Arrays.fill(tile, Float.NaN);
            int first = 17;
            int count = 9;   // fewer than a tile: the rest of the tile is left alone
            WeightKernels.widen(m, first, first + count, tile, FloatVectorLanes.L, PanelKernel.CHUNK);
            int written = 0;
            for (int r = 0; r < count; r++) {
                for (int i = 0; i < in; i++) {
                    // BF16/F16 tiles hold each 2L-chunk of a row as its even then its odd inputs
                    int src = pairSplitSource(f, i, in);
                    float v = tile[WeightKernels.at(r, i, FloatVectorLanes.L, PanelKernel.CHUNK)];
                    assertEquals(w[(first + r) * in + src], v, 0f, f + " row " + r + ", input " + i);
                    written++;
                }
            }
            long nans = 0;
            for (float v : tile) {
                nans += Float.isNaN(v) ? 1 : 0;
            }
            assertEquals(tile.length - written, nans, f + ": exactly the tile's rows written");
        }
    }

    /** The input that position {@code i} of a widened row holds ({@link WeightKernels#pairSplit}'s order). */
    private static int pairSplitSource(WeightFormat f, int i, int in) {
        if (f != WeightFormat.BF16 && f != WeightFormat.F16) {
            return i;
        }
        int chunk = 2 * FloatVectorLanes.L;
        int start = i / chunk * chunk;
        if (start + chunk > in) {
            return i;
        }
        int k = i - start;
        return k < FloatVectorLanes.L ? start + 2 * k : start + 2 * (k - FloatVectorLanes.L) + 1;
    }

    @Test
    void packedPanelsHoldEveryColumnInClassOrderAndZerosPastTheLast() {
        int lanes = FloatVectorLanes.L;
        int in = 2 * lanes + 3;
        int n = 37;
        // one weight panel: two steps of a vector, then a tail of three inputs
        int[] order = PanelKernel.order(in, new int[] {0}, new int[] {in}, new int[] {2 * lanes});
        for (int k = 0; k < lanes; k++) {
            assertEquals(k, order[2 * k], "class " + k + ", step 0");
            assertEquals(lanes + k, order[2 * k + 1], "class " + k + ", step 1");
        }
        for (int i = 2 * lanes; i < in; i++) {
            assertEquals(i, order[i], "the tail stays in place");
        }
        float[] x = RandomValues.gaussian(new Random(4), n * in);
        float[] p = PanelKernel.pack(x, n, in, order);
        int panels = PanelKernel.panels(n);
        assertEquals((n + PanelKernel.WIDTH - 1) / PanelKernel.WIDTH, panels);
        for (int panel = 0; panel < panels; panel++) {
            for (int q = 0; q < in; q++) {
                for (int c = 0; c < PanelKernel.WIDTH; c++) {
                    int col = panel * PanelKernel.WIDTH + c;
                    float want = col < n ? x[col * in + order[q]] : 0f;
                    assertEquals(want, p[panel * in * PanelKernel.WIDTH + q * PanelKernel.WIDTH + c], 0f,
                            "panel " + panel + ", place " + q + ", column " + c);
                }
            }
        }
    }

    /** The lane count the kernels use. */
    private static final class FloatVectorLanes {
        static final int L = jdk.incubator.vector.FloatVector.SPECIES_PREFERRED.length();
    }
}
