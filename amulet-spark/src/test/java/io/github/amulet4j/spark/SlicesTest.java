package io.github.amulet4j.spark;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Tasks get whole batches: the generations are batched as eval --batch batches them. */
class SlicesTest {

    @Test
    void slicesHoldWholeBatchesInOrder() {
        List<EvalItem> items = new ArrayList<>();
        items.add(EvalItem.written("{\"copy\":0}")); // a copy made on the driver: written, not generated
        for (int i = 0; i < 10; i++) {
            items.add(EvalItem.generation(i, "q" + i, "pref", "p", "text", List.of(), List.of()));
        }
        // 10 generations in batches of 4: [4 (+ the copy)], [4], [2]
        List<List<EvalItem>> slices = SparkEvalRunner.slices(items, 3, 4);
        assertEquals(List.of(5, 4, 2), slices.stream().map(List::size).toList());
        assertEquals(items, slices.stream().flatMap(List::stream).toList());
        // more partitions than batches: one batch each
        assertEquals(List.of(5, 4, 2), SparkEvalRunner.slices(items, 8, 4).stream().map(List::size).toList());
        // two partitions over three batches: 1 and 2 batches
        assertEquals(List.of(5, 6), SparkEvalRunner.slices(items, 2, 4).stream().map(List::size).toList());
        assertEquals(List.of(11), SparkEvalRunner.slices(items, 1, 4).stream().map(List::size).toList());
    }
}
