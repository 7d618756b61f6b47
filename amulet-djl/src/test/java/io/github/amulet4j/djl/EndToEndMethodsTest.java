package io.github.amulet4j.djl;


import io.github.amulet4j.align.AlignmentStep;
import io.github.amulet4j.align.AmuletForm;
import io.github.amulet4j.align.AmuletParameters;
import io.github.amulet4j.align.ClosedFormAmulet;
import io.github.amulet4j.align.LinearAlignment;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.align.PassThrough;
import io.github.amulet4j.formats.checkpoint.Checkpoints;
import io.github.amulet4j.formats.checkpoint.ModelConfigReader;
import io.github.amulet4j.formats.checkpoint.SafetensorsDtype;
import io.github.amulet4j.formats.checkpoint.TensorStore;
import io.github.amulet4j.djl.model.DjlCausalLm;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.Preference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.github.amulet4j.djl.tokenizer.HfTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Every method through {@link AmuletModel} on a tiny random checkpoint of every architecture, checked against
 * an independent computation: the two streams' logits recomputed from scratch for every prefix
 * ({@link DjlCausalLm#logitsAllPositions}, no KV cache, one stream at a time) and the methods' steps applied
 * to them by hand.
 */
class EndToEndMethodsTest {

    private static final String QUESTION = "What is the ozone layer?";
    private static final String PREFERENCE_TEXT = "Answer in as few words as you can.";
    private static final Preference PREFERENCE = Preference.of(PREFERENCE_TEXT);
    private static final int STEPS = 6;

    @TempDir
    Path dir;

    @ParameterizedTest
    @EnumSource(value = RandomModelFolder.Shape.class, names = "TINY_.*", mode = EnumSource.Mode.MATCH_ANY)
    void everyMethodGeneratesWhatTheStepsOnIndependentLogitsGive(RandomModelFolder.Shape shape) throws IOException {
        Path folder = dir.resolve(shape.id());
        RandomModelFolder.write(folder, shape, 11, SafetensorsDtype.F32);
        try (AmuletModel model = AmuletModel.load(folder);
             TensorStore store = Checkpoints.open(folder);
             DjlCausalLm reference = DjlCausalLm.load(ModelConfigReader.readFolder(folder), store)) {
            // the reference's prompts and end-of-sequence ids, by hand from the files (not the production prompts())
            HandPrompts prompts = HandPrompts.of(folder, shape);
            int vocab = Math.min(prompts.tokenizerVocab, ModelConfigReader.readFolder(folder).vocabSize());
            Set<Integer> eos = prompts.eos;
            AmuletParameters params = AmuletParameters.PAPER_DEFAULTS;
            List<int[]> produced = new ArrayList<>();
            for (AlignmentMethod method : List.of(AlignmentMethod.BASE, AlignmentMethod.PREF, AlignmentMethod.LA, AlignmentMethod.AMULET)) {
                AlignmentStep step = switch (method) {
                    case BASE -> PassThrough.BASE;
                    case PREF -> PassThrough.PREFERENCE;
                    case LA -> new LinearAlignment(2.0);
                    default -> new ClosedFormAmulet(params);
                };
                int[] expected = greedyByHand(reference, step, prompts.base,
                        prompts.pref, vocab, eos);
                GenerationResult r = model.generate(QUESTION, PREFERENCE, greedy(method).build());
                assertArrayEquals(expected, r.tokenIds(), shape.id() + " " + method.id());
                produced.add(r.tokenIds());
            }
            assertTrue(produced.stream().map(Arrays::toString).distinct().count() >= 2,
                    shape.id() + ": the preference changes what some method writes");

            GenerationResult closed = model.generate(QUESTION, PREFERENCE, greedy(AlignmentMethod.AMULET).build());
            GenerationResult iterative = model.generate(QUESTION, PREFERENCE,
                    greedy(AlignmentMethod.AMULET).amuletForm(AmuletForm.ITERATIVE).build());
            assertArrayEquals(closed.tokenIds(), iterative.tokenIds(), shape.id() + ": iterative == closed form");

            GenerationResult pref = model.generate(QUESTION, PREFERENCE, greedy(AlignmentMethod.PREF).build());
            GenerationResult beam1 = model.generate(QUESTION, PREFERENCE, greedy(AlignmentMethod.BEAM).numBeams(1).build());
            assertArrayEquals(pref.tokenIds(), beam1.tokenIds(), shape.id() + ": one beam == greedy pref");

            for (int beams : new int[] {2, 3}) {
                int[] best = bestTwoTokens(reference, prompts.pref, vocab, beams, eos);
                GenerationResult beam = model.generate(QUESTION, PREFERENCE,
                        greedy(AlignmentMethod.BEAM).numBeams(beams).maxNewTokens(2).build());
                assertArrayEquals(best, beam.tokenIds(), shape.id() + ": " + beams + " beams");
            }
        }
    }

    /**
     * The two streams' token ids as ALGORITHM.md section 1 defines them, written out for the tiny folders: the
     * ChatML template of {@link io.github.amulet4j.djl.tokenizer.TinyTokenizerWriter} has the default system
     * message "You are a helpful assistant.", so the preference stream's system message is that + " " + P; the
     * Llama shape adds BOS; GPT-2 has no template (P + "\n\n" + question). EOS ids from generation_config.json.
     */
    record HandPrompts(int[] base, int[] pref, Set<Integer> eos, int tokenizerVocab) {

        static HandPrompts of(Path folder, RandomModelFolder.Shape shape) throws IOException {
            String baseText;
            String prefText;
            if (shape == RandomModelFolder.Shape.TINY_GPT2) {
                baseText = QUESTION;
                prefText = PREFERENCE_TEXT + "\n\n" + QUESTION;
            } else {
                String turns = "<|im_start|>user\n" + QUESTION + "<|im_end|>\n<|im_start|>assistant\n";
                baseText = "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" + turns;
                prefText = "<|im_start|>system\nYou are a helpful assistant. " + PREFERENCE_TEXT + "<|im_end|>\n" + turns;
            }
            JsonObject generation = JsonParser.parseString(Files.readString(folder.resolve("generation_config.json")))
                    .getAsJsonObject();
            Set<Integer> eos = new HashSet<>();
            generation.getAsJsonArray("eos_token_id").forEach(e -> eos.add(e.getAsInt()));
            try (HfTokenizer t = HfTokenizer.load(folder)) {
                int[] base = t.encode(baseText);
                int[] pref = t.encode(prefText);
                if (shape == RandomModelFolder.Shape.TINY_LLAMA) {
                    base = prepend(t.tokenToId("<s>"), base);
                    pref = prepend(t.tokenToId("<s>"), pref);
                }
                return new HandPrompts(base, pref, eos, t.vocabularySize());
            }
        }

        private static int[] prepend(int id, int[] ids) {
            int[] out = new int[ids.length + 1];
            out[0] = id;
            System.arraycopy(ids, 0, out, 1, ids.length);
            return out;
        }
    }

    private static GenerationConfig.Builder greedy(AlignmentMethod method) {
        return GenerationConfig.builder().method(method).maxNewTokens(STEPS);
    }

    /** Greedy decoding of {@code step} applied to the two streams, every prefix recomputed from scratch. */
    static int[] greedyByHand(DjlCausalLm lm, AlignmentStep step, int[] base, int[] pref, int vocab, Set<Integer> eos) {
        List<Integer> out = new ArrayList<>();
        int[] b = base;
        int[] p = pref;
        for (int i = 0; i < STEPS; i++) {
            float[] baseRow = step.readsBase() ? last(lm, b) : null;
            float[] prefRow = step.readsPreference() ? last(lm, p) : null;
            float[] adjusted = new float[vocab];
            step.apply(prefRow, 0, baseRow, 0, adjusted, 0, vocab);
            int token = argmax(adjusted, vocab);
            if (eos.contains(token)) {
                break;
            }
            out.add(token);
            b = append(b, token);
            p = append(p, token);
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * The two-token continuation beam search of width {@code beams} must return: the best sum of
     * log-probabilities among continuations whose first token is one of the {@code beams} likeliest (valid
     * when no end-of-sequence token comes near the top, which the test asserts).
     */
    static int[] bestTwoTokens(DjlCausalLm lm, int[] pref, int vocab, int beams, Set<Integer> eos) {
        double[] first = logSoftmax(last(lm, pref), vocab);
        int[] top = topK(first, 2 * beams);
        for (int t : top) {
            assertFalse(eos.contains(t), "an end-of-sequence token near the top makes this reference invalid");
        }
        double bestScore = Double.NEGATIVE_INFINITY;
        int[] best = null;
        for (int k = 0; k < beams; k++) {
            double[] second = logSoftmax(last(lm, append(pref, top[k])), vocab);
            int t2 = topK(second, 1)[0];
            assertFalse(eos.contains(t2));
            double score = first[top[k]] + second[t2];
            if (score > bestScore) {
                bestScore = score;
                best = new int[] {top[k], t2};
            }
        }
        return best;
    }

    static float[] last(DjlCausalLm lm, int[] tokens) {
        float[][] all = lm.logitsAllPositions(tokens);
        return all[all.length - 1];
    }

    static int argmax(float[] a, int n) {
        int best = 0;
        for (int i = 1; i < n; i++) {
            if (a[i] > a[best]) {
                best = i;
            }
        }
        return best;
    }

    static double[] logSoftmax(float[] logits, int vocab) {
        double max = Double.NEGATIVE_INFINITY;
        for (int i = 0; i < vocab; i++) {
            max = Math.max(max, logits[i]);
        }
        double sum = 0;
        for (int i = 0; i < vocab; i++) {
            sum += Math.exp(logits[i] - max);
        }
        double lse = max + Math.log(sum);
        double[] out = new double[vocab];
        for (int i = 0; i < vocab; i++) {
            out[i] = logits[i] - lse;
        }
        return out;
    }

    static int[] topK(double[] a, int k) {
        Integer[] idx = new Integer[a.length];
        for (int i = 0; i < a.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (x, y) -> Double.compare(a[y], a[x]));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = idx[i];
        }
        return out;
    }

    static int[] append(int[] a, int token) {
        int[] out = Arrays.copyOf(a, a.length + 1);
        out[a.length] = token;
        return out;
    }
}
