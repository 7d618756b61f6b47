package io.github.amulet4j.eval;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.google.gson.JsonObject;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.align.AmuletForm;
import io.github.amulet4j.align.AmuletParameters;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.decode.HistoryProcessor;
import io.github.amulet4j.decode.TokenHistory;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.djl.hub.HubSettings;
import io.github.amulet4j.djl.model.RuntimeOptions;
import io.github.amulet4j.generate.EarlyStopping;
import io.github.amulet4j.generate.FinishReason;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.Preference;
import io.github.amulet4j.prompt.PromptStyle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.NotSerializableException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.PrintWriter;
import java.io.Serializable;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The eval plan: what it validates, the requests and rows it makes, and the same plan after serialization. */
class EvalPlanTest {

    @TempDir
    Path dir;

    private static final HistoryProcessor NOT_SERIALIZABLE = new HistoryProcessor() {
        @Override
        public void process(TokenHistory history, float[] logits, int off, int vocab) {
        }
    };

    /** A processor that can go to another JVM. */
    record Ban(int token) implements HistoryProcessor, Serializable {
        @Override
        public void process(TokenHistory history, float[] logits, int off, int vocab) {
            logits[off + token] = Float.NEGATIVE_INFINITY;
        }
    }

    private static EvalPlan.Builder minimal() {
        return EvalPlan.builder().method(GenerationConfig.builder().method(AlignmentMethod.BASE).build())
                .preference("concise", new Preference("Be concise.")).dataset("q.json").out("out.jsonl");
    }

    /** A plan with every setting away from its default. */
    private static EvalPlan everything() {
        DecodingConfig sampling = DecodingConfig.builder().doSample(true).temperature(0.7).topK(40).topP(0.9).minP(0.05)
                .repetitionPenalty(1.1).noRepeatNgramSize(3).seed(42).build();
        return EvalPlan.builder()
                .model(ModelOptions.builder().model("/models/tiny").revision("v2").runtime(r -> r.device(Device.cpu())
                                .computeType(DataType.FLOAT16).useKvCache(false).checkpointName("ckpt")
                                .initialCacheCapacity(32).productThreads(3).linearKernel(RuntimeOptions.LinearKernel.ENGINE)
                                .weights(RuntimeOptions.Weights.F32).prefillChunk(64)
                                .kernels(io.github.amulet4j.transformer.weights.Kernels.JAVA)
                                .kvCache(io.github.amulet4j.transformer.KvCachePrecision.F16))
                        .hubSettings(HubSettings.fromEnvironment(Map.of("HF_TOKEN", "secret"), Path.of("/home/u")))
                        .build())
                .method(GenerationConfig.builder().method(AlignmentMethod.BASE).maxNewTokens(7).stopStrings("\n\n")
                        .eosTokenIds(5, 9).decoding(sampling).build())
                .method(GenerationConfig.builder().method(AlignmentMethod.AMULET).maxNewTokens(7)
                        .amulet(AmuletParameters.builder().iterations(3).eta(5).alpha(1.5).lambda(3).build())
                        .amuletForm(AmuletForm.ITERATIVE).decoding(sampling).processorAfterStep(new Ban(2)).build())
                .method(GenerationConfig.builder().method(AlignmentMethod.LA).maxNewTokens(7).rho(1.5).build())
                .method(GenerationConfig.builder().method(AlignmentMethod.BEAM).maxNewTokens(7).numBeams(4)
                        .lengthPenalty(0.5).earlyStopping(EarlyStopping.NEVER).build())
                .preference("concise", new Preference("Be concise."))
                .preference("poet", new Preference("Answer like a poet."))
                .promptStyle(PromptStyle.PAPER).system("You are terse.")
                .dataset("hdfs://nn:8020/q.parquet").out("s3a://bucket/out").limit(5).overwrite(true).progress(false)
                .batch(8).partitions(3).master("spark://h:7077").sparkConf("spark.executor.memory", "16g")
                .sparkConf("a.b", "c=d")
                .scoring(io.github.amulet4j.eval.reward.ScoringPlan.builder()
                        .rewardModel(ModelOptions.builder().model("/models/armo").runtime(r -> r
                                .weights(RuntimeOptions.Weights.Q8_0)).build())
                        .paperFormat(true).truncate(true).objective("3").candidates(List.of("amulet", "la")).batch(5)
                        .scoresOut("s3a://bucket/scores").build())
                .build();
    }

    @Test
    void aSerializedPlanIsTheSamePlanButForTheHubSettings() throws Exception {
        EvalPlan plan = everything();
        EvalPlan copy = roundTrip(plan);

        assertEquals(plan.settings().text(), copy.settings().text());
        assertEquals(plan.methods(), copy.methods());
        for (AlignmentMethod m : plan.methods()) {
            assertEquals(plan.config(m).toString(), copy.config(m).toString(), m.id());
            assertEquals(plan.config(m).decoding().seed(), copy.config(m).decoding().seed(), m.id());
        }
        assertEquals(new Ban(2), copy.config(AlignmentMethod.AMULET).processorsAfterStep().get(0));
        // the model options as given, but the Hub settings: a plan read in another JVM takes that JVM's
        assertEquals(plan.modelOptions().toBuilder().hubSettings(null).build(), copy.modelOptions());
        assertTrue(plan.modelOptions().hubSettings().isPresent());
        assertTrue(copy.modelOptions().hubSettings().isEmpty());
        assertEquals(plan.preferences(), copy.preferences());
        assertEquals(List.of("concise", "poet"), List.copyOf(copy.preferences().keySet()));
        assertEquals(PromptStyle.PAPER, copy.promptStyle());
        assertEquals("You are terse.", copy.system());
        assertEquals("hdfs://nn:8020/q.parquet", copy.dataset());
        assertEquals("s3a://bucket/out", copy.out());
        assertEquals(5, copy.limit().getAsInt());
        assertTrue(copy.overwrite());
        assertFalse(copy.progress());
        assertEquals(8, copy.batch());
        assertEquals(3, copy.partitions().getAsInt());
        assertEquals("spark://h:7077", copy.master());
        assertEquals(Map.of("spark.executor.memory", "16g", "a.b", "c=d"), copy.sparkConf());
        assertEquals(List.of("spark.executor.memory", "a.b"), List.copyOf(copy.sparkConf().keySet()));

        AmuletRequest a = plan.request("Why?", AlignmentMethod.AMULET, plan.preferences().get("poet"));
        AmuletRequest b = copy.request("Why?", AlignmentMethod.AMULET, copy.preferences().get("poet"));
        assertEquals(a.conversation().system(), b.conversation().system());
        assertEquals(a.preference(), b.preference());
        assertEquals(a.promptStyle(), b.promptStyle());
        assertEquals(a.config().orElseThrow().toString(), b.config().orElseThrow().toString());

        var scoring = copy.scoring().orElseThrow();
        assertEquals(plan.scoring().orElseThrow().rewardModel(), scoring.rewardModel());
        assertTrue(scoring.paperFormat() && scoring.truncate());
        assertEquals("3", scoring.objective());
        assertEquals(List.of("amulet", "la"), scoring.candidates());
        assertEquals(5, scoring.batch());
        assertEquals("s3a://bucket/scores", scoring.scoresOut("ignored"));
        assertEquals(7, copy.maxNewTokens());
        assertEquals(io.github.amulet4j.djl.RewardEncoding.paper(7).toBuilder().truncateToContext(true).build()
                .toString(), scoring.encoding(copy.maxNewTokens()).toString());

        // defaults go as they are
        EvalPlan small = roundTrip(minimal().build());
        assertTrue(small.scoring().isEmpty());
        assertTrue(small.limit().isEmpty() && small.partitions().isEmpty());
        assertNull(small.master());
        assertNull(small.system());
        assertEquals(minimal().build().settings().text(), small.settings().text());
    }

    @Test
    void aProcessorThatCannotGoToAnotherJvmIsRefusedWhenThePlanIsSerialized() {
        EvalPlan plan = minimal().method(GenerationConfig.builder().method(AlignmentMethod.PREF)
                .processorBeforeStep(NOT_SERIALIZABLE).build()).build();
        NotSerializableException e = assertThrows(NotSerializableException.class, () -> roundTrip(plan));
        assertTrue(e.getMessage().contains("not Serializable"), e.getMessage());
    }

    @Test
    void theBuilderChecksWhatItIsGivenNamingTheOption() {
        assertTrue(assertThrows(EvalUsageException.class, () -> minimal().limit(0)).getMessage()
                .contains("--limit: must be >= 1, got 0"));
        assertTrue(assertThrows(EvalUsageException.class, () -> minimal().batch(257)).getMessage()
                .contains("--batch: must be in [1, 256], got 257"));
        assertTrue(assertThrows(EvalUsageException.class, () -> minimal().partitions(0)).getMessage()
                .contains("--partitions: must be >= 1"));
        assertTrue(assertThrows(EvalUsageException.class, () -> EvalPlan.builder().dataset("q").out("o")
                .preference("p", new Preference("x")).build()).getMessage().contains("--methods"));
        assertTrue(assertThrows(EvalUsageException.class, () -> EvalPlan.builder().dataset("q").out("o")
                .method(GenerationConfig.defaults()).build()).getMessage().contains("no preference"));
        assertTrue(assertThrows(EvalUsageException.class, () -> minimal().dataset(null).build()).getMessage()
                .contains("--dataset"));
        assertThrows(IllegalArgumentException.class, () -> minimal().build().config(AlignmentMethod.LA));
        // methods in the order given, one configuration each
        EvalPlan plan = minimal().method(GenerationConfig.builder().method(AlignmentMethod.AMULET).build())
                .method(GenerationConfig.builder().method(AlignmentMethod.BASE).maxNewTokens(9).build()).build();
        assertEquals(List.of(AlignmentMethod.BASE, AlignmentMethod.AMULET), plan.methods());
        assertEquals(9, plan.config(AlignmentMethod.BASE).maxNewTokens());
    }

    @Test
    void questionsAreReadAsEvalReadsThemWithTheLimit() throws IOException {
        Path q = dir.resolve("q.json");
        Files.writeString(q, "[{\"index\": 3, \"question\": \"a?\"}, {\"index\": 1, \"question\": \"b?\"}]");
        assertEquals(List.of(new Question(3, "a?"), new Question(1, "b?")), minimal().dataset(q.toString()).build().questions());
        assertEquals(List.of(new Question(3, "a?")), minimal().dataset(q.toString()).limit(1).build().questions());
        Files.writeString(q, "[]");
        EvalUsageException none = assertThrows(EvalUsageException.class, () -> minimal().dataset(q.toString()).build().questions());
        assertEquals("--dataset: " + q + " holds no questions", none.getMessage());
        Files.writeString(q, "{\"index\": 1}");
        EvalUsageException bad = assertThrows(EvalUsageException.class, () -> minimal().dataset(q.toString()).build().questions());
        assertTrue(bad.getMessage().startsWith("--dataset: dataset " + q), bad.getMessage());
    }

    @Test
    void rowsAndCopiesOfBaseRows() {
        GenerationResult r = new GenerationResult(new int[] {4, 5, 6}, "hi there", FinishReason.MAX_NEW_TOKENS, 11, 17,
                0, 0);
        EvalTask task = new EvalTask(new Question(7, "Why?"), "concise", new Preference("Be concise."),
                AlignmentMethod.BASE, List.of("poet"));
        JsonObject row = EvalRows.row("tiny", task, r, 2_000_000_000L);
        assertEquals("{\"index\":7,\"method\":\"base\",\"preference\":\"concise\",\"preference_text\":\"Be concise.\","
                + "\"question\":\"Why?\",\"text\":\"hi there\",\"token_ids\":[4,5,6],\"model\":\"tiny\",\"prompt_tokens\":11,"
                + "\"new_tokens\":3,\"finish_reason\":\"max_new_tokens\",\"seconds\":2.0,\"tokens_per_second\":1.5}", row.toString());
        assertEquals(17, EvalRows.row("tiny", new Question(7, "Why?"), AlignmentMethod.AMULET, "concise",
                new Preference("Be concise."), r, 0).get("prompt_tokens").getAsInt());
        JsonObject copy = EvalRows.baseCopy(row, "poet", new Preference("Answer like a poet."));
        assertEquals("poet", copy.get("preference").getAsString());
        assertEquals("Answer like a poet.", copy.get("preference_text").getAsString());
        assertEquals("concise", copy.get(EvalSummary.COPY_OF).getAsString());
        assertEquals(0.0, copy.get("seconds").getAsDouble());
        assertEquals(row.get("token_ids"), copy.get("token_ids"));
        assertEquals(Map.of(7, row), EvalRows.baseRowsByIndex(List.of(copy, row)));
        assertEquals(new RowKey(7, "base", "concise"), task.key());
    }

    @Test
    void withoutTheSparkModuleASparkRunIsBadUsageThatSaysWhatIsMissing() {
        EvalPlan plan = minimal().master("local[2]").build();
        PrintWriter w = new PrintWriter(new StringWriter());
        EvalUsageException e = assertThrows(EvalUsageException.class, () -> plan.runOnSpark(w, w));
        assertTrue(e.getMessage().startsWith("--spark: the amulet-spark module is not on the class path"), e.getMessage());
        assertThrows(EvalUsageException.class, () -> minimal().build().runOnSpark(w, w));
    }

    private static EvalPlan roundTrip(EvalPlan plan) throws IOException, ClassNotFoundException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(plan);
        }
        try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (EvalPlan) in.readObject();
        }
    }
}
