package io.github.amulet4j.align;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class Nd4jAlignmentTest {

    @Test
    void batchOfRowsMatchesTheJavaStepRowByRow() {
        float[][] pref = {AmuletStepTest.PREF6, {1f, Float.NEGATIVE_INFINITY, 0f, 2f, -3f, 0.5f}};
        float[][] base = {AmuletStepTest.BASE6, {0f, 1f, 1f, Float.NEGATIVE_INFINITY, 2f, 0f}};
        ClosedFormAmulet step = new ClosedFormAmulet();
        INDArray out = new Nd4jAlignment(step).apply(Nd4j.create(pref).castTo(DataType.DOUBLE), Nd4j.create(base));
        for (int r = 0; r < 2; r++) {
            assertArrayEquals(step.apply(pref[r], base[r]), out.getRow(r).toFloatVector(), 0f);
        }
        INDArray one = new Nd4jAlignment(PassThrough.PREFERENCE).apply(Nd4j.create(AmuletStepTest.PREF6), null);
        assertArrayEquals(AmuletStepTest.PREF6, one.getRow(0).toFloatVector(), 0f);
    }

    @Test
    void shapeMismatchIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new Nd4jAlignment(new ClosedFormAmulet()).apply(Nd4j.zeros(DataType.FLOAT, 2, 5),
                        Nd4j.zeros(DataType.FLOAT, 2, 6)));
        assertTrue(e.getMessage().contains("[2, 5]") && e.getMessage().contains("[2, 6]"), e.getMessage());
    }
}
