package io.github.amulet4j.cli;

import io.github.amulet4j.eval.EvalPlan;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code eval --spark} without the amulet-spark module, and the eval plan the module receives. */
class EvalSparkOptionTest {

    @TempDir
    Path dir;

    @Test
    void withoutTheSparkModuleItIsAUsageErrorThatSaysWhatIsMissing() throws IOException {
        Path questions = dir.resolve("q.json");
        Files.writeString(questions, "[{\"index\": 1, \"question\": \"Why?\"}]");
        CliRun r = CliRun.run("eval", "--spark", "local[2]", "--model", dir.toString(), "--dataset", questions.toString(),
                "--preferences", "concise", "--out", dir.resolve("out").toString());
        assertEquals(AmuletCli.USAGE, r.exitCode(), r.toString());
        assertTrue(r.err().contains("--spark: the amulet-spark module is not on the class path"), r.err());
    }

    @Test
    void thePlanIsTheCommandLineParsedAgain() throws IOException {
        Path prefs = dir.resolve("prefs.json");
        Files.writeString(prefs, "{\"brief\": \"Five words.\"}");
        EvalPlan plan = EvalCommand.parse(List.of("eval", "--spark", "yarn", "--model", dir.toString(), "--dataset",
                "hdfs://nn:8020/q.parquet", "--out", "s3a://bucket/out", "--preferences", "concise",
                "--preference-file", prefs.toString(), "--batch", "8", "--limit", "5", "--spark-conf", "a.b=c=d",
                "--methods", "base,amulet"));
        assertEquals("yarn", plan.master());
        assertEquals("hdfs://nn:8020/q.parquet", plan.dataset()); // as written, not as a java.nio Path
        assertEquals("s3a://bucket/out", plan.out());
        assertEquals(8, plan.batch());
        assertEquals(5, plan.limit().getAsInt());
        assertEquals("c=d", plan.sparkConf().get("a.b"));
        assertEquals(List.of("concise", "brief"), List.copyOf(plan.preferences().keySet()));
        assertEquals("Five words.", plan.preferences().get("brief").text());
        assertEquals(2, plan.methods().size());
        UsageException bad = org.junit.jupiter.api.Assertions.assertThrows(UsageException.class,
                () -> EvalCommand.parse(List.of("eval", "--spark", "yarn", "--spark-conf", "novalue", "--dataset", "q.json"))
                        .sparkConf());
        assertTrue(bad.getMessage().contains("--spark-conf: expected KEY=VALUE, got 'novalue'"), bad.getMessage());
    }
}
