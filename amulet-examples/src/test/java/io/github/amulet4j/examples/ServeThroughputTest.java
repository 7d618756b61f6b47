package io.github.amulet4j.examples;

import io.github.amulet4j.djl.RandomModelFolder;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertTrue;

/** The serving-throughput program runs end to end on a tiny model and finds the same answers both ways. */
class ServeThroughputTest {

    @TempDir
    Path dir;

    @Test
    void printsBothTimesAndTheSameAnswersBothWays() throws Exception {
        Path model = dir.resolve("tiny");
        RandomModelFolder.write(model, RandomModelFolder.Shape.TINY_QWEN2, 3, SafetensorsDtype.F32);
        String out = ExamplesTest.stdout(ServeThroughput::main, model.toString(), "3", "6");
        assertTrue(out.contains("one after another:") && out.contains("ratio concurrent / sequential:"), out);
        assertTrue(out.contains("same answers both ways: true"), out);
    }
}
