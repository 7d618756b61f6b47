package io.github.amulet4j.cli;

import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.decode.DecodingChain;
import io.github.amulet4j.decode.DecodingConfig;
import io.github.amulet4j.generate.EarlyStopping;
import io.github.amulet4j.generate.GenerationConfig;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.StringReader;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command line's decoding rule (user guide, "Decoding"): sampling is on when a sampling option is given,
 * {@code --greedy} and {@code --temperature 0} mean greedy, ranges are checked, every error names its flag.
 */
class DecodingFlagsTest {

    @TempDir
    static Path dir;

    static Path model;

    @BeforeAll
    static void writeTinyModel() {
        model = dir.resolve("tiny");
        assertEquals(0, CliRun.run("random-model", "--shape", "tiny-gpt2", "--out", model.toString()).exitCode());
    }

    /** The generation configuration {@code generate ARGS Q} would use for {@code method}. */
    static GenerationConfig config(AlignmentMethod method, String... args) {
        CommandLine cli = AmuletCli.commandLine(new StringReader(""));
        String[] all = new String[args.length + 2];
        all[0] = "generate";
        System.arraycopy(args, 0, all, 1, args.length);
        all[all.length - 1] = "Why?";
        CommandLine.ParseResult parsed = cli.parseArgs(all);
        GeneratingCommand command = (GeneratingCommand) parsed.subcommand().commandSpec().userObject();
        return command.config(method);
    }

    static DecodingConfig decoding(String... args) {
        return config(AlignmentMethod.AMULET, args).decoding();
    }

    @Test
    void eachSamplingOptionAloneTurnsSamplingOn() {
        assertTrue(decoding().isGreedy(), "greedy by default");
        assertTrue(decoding("--greedy").isGreedy());
        for (List<String> args : List.of(List.of("--do-sample"), List.of("--temperature", "0.7"), List.of("--top-k", "5"),
                List.of("--top-p", "0.9"), List.of("--seed", "3"), List.of("--top-k", "0"))) {
            assertTrue(decoding(args.toArray(String[]::new)).doSample(), args + " turns sampling on");
        }
        DecodingConfig d = decoding("--top-k", "5", "--top-p", "0.5", "--temperature", "0.3", "--seed", "9");
        assertEquals(5, d.topK());
        assertEquals(0.5, d.topP());
        assertEquals(0.3, d.temperature());
        assertEquals(9L, d.seed().getAsLong());
        assertEquals(1.0, decoding("--do-sample").temperature());
    }

    @Test
    void temperatureZeroIsGreedy() {
        DecodingConfig d = decoding("--temperature", "0");
        assertTrue(d.isGreedy());
        assertTrue(decoding("--temperature", "0", "--greedy").isGreedy());
    }

    @Test
    void beamSearchHonoursTheSamplingOptions() {
        DecodingConfig d = config(AlignmentMethod.BEAM, "--temperature", "0.7", "--seed", "4").decoding();
        assertTrue(d.doSample(), "beam search is sampled when asked (the paper's sampled beam baseline)");
        assertEquals(0.7, d.temperature());
        assertEquals(4L, d.seed().getAsLong());
        assertTrue(config(AlignmentMethod.BEAM).decoding().isGreedy());
    }

    @Test
    void beamFlagsMapOntoHuggingFacesSettings() {
        GenerationConfig c = config(AlignmentMethod.BEAM, "--beams", "4", "--length-penalty", "-0.5", "--early-stopping", "never");
        assertEquals(4, c.numBeams());
        assertEquals(-0.5, c.lengthPenalty());
        assertEquals(EarlyStopping.NEVER, c.earlyStopping());
        assertEquals(EarlyStopping.WHEN_FULL, config(AlignmentMethod.BEAM, "--early-stopping", "true").earlyStopping());
        assertEquals(EarlyStopping.HEURISTIC, config(AlignmentMethod.BEAM).earlyStopping(), "Hugging Face's default");
        assertEquals(1.0, config(AlignmentMethod.BEAM).lengthPenalty());
        String m = model.toString();
        assertUsage(CliRun.run("generate", "--model", m, "--preference", "concise", "--method", "beam",
                "--early-stopping", "soon", "Why?"), "--early-stopping: unknown early stopping 'soon'; valid: true, false, never");
        assertUsage(CliRun.run("generate", "--model", m, "--preference", "concise", "--method", "beam", "--beams", "0",
                "Why?"), "--beams: expected a whole number >= 1, got 0");
        assertUsage(CliRun.run("generate", "--model", m, "--preference", "concise", "--method", "beam",
                "--length-penalty", "Infinity", "Why?"), "--length-penalty: expected a finite number");
    }

    @Test
    void sampledBeamSearchRunsFromTheCommandLine() {
        String m = model.toString();
        String[] base = {"generate", "--model", m, "--preference", "concise", "--method", "beam", "--beams", "2",
                "--max-new-tokens", "6", "--json"};
        java.util.Set<String> outputs = new java.util.HashSet<>();
        for (String seed : List.of("1", "2", "3", "4")) {
            CliRun a = CliRun.run(concat(base, "--temperature", "5", "--seed", seed, "Why?"));
            CliRun b = CliRun.run(concat(base, "--temperature", "5", "--seed", seed, "Why?"));
            assertEquals(0, a.exitCode(), a::toString);
            assertEquals(CommandsTest.json(a.out()).get("token_ids"), CommandsTest.json(b.out()).get("token_ids"),
                    "same seed, same tokens");
            outputs.add(CommandsTest.json(a.out()).get("token_ids").toString());
        }
        assertTrue(outputs.size() > 1, "the seed and temperature reach beam search: " + outputs);
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Test
    void processorFlagsReachTheDecodingChain() {
        DecodingConfig d = decoding("--repetition-penalty", "1.3", "--no-repeat-ngram-size", "3");
        assertTrue(d.isGreedy(), "repetition penalty and n-gram bans are not sampling options");
        assertEquals(1.3, d.repetitionPenalty());
        assertEquals(3, d.noRepeatNgramSize());
        assertEquals("DecodingChain[before step [RepetitionPenalty[1.3], NoRepeatNgram[3]], after step [], "
                + "SamplerChain[] -> Greedy]", DecodingChain.of(d, List.of(), List.of()).toString());
        DecodingConfig m = decoding("--min-p", "0.05");
        assertTrue(m.doSample(), "--min-p turns sampling on");
        assertEquals(0.05, m.minP());
        assertEquals(1.0, decoding().repetitionPenalty());
        assertEquals(0, decoding().noRepeatNgramSize());
        assertThrows(UsageException.class, () -> decoding("--greedy", "--min-p", "0.1"));
        String mo = model.toString();
        assertUsage(CliRun.run("generate", "--model", mo, "--preference", "concise", "--repetition-penalty", "0", "Why?"),
                "--repetition-penalty: expected a number above 0 (1 = off), got 0.0");
        assertUsage(CliRun.run("generate", "--model", mo, "--preference", "concise", "--min-p", "2", "Why?"),
                "--min-p: expected a number from 0 to 1 (0 = off), got 2.0");
        assertUsage(CliRun.run("generate", "--model", mo, "--preference", "concise", "--no-repeat-ngram-size", "-1",
                "Why?"), "--no-repeat-ngram-size: expected a whole number >= 0 (0 = off), got -1");
        // on a model: no bigram of the prompt or the answer repeats
        CliRun r = CliRun.run("generate", "--model", mo, "--preference", "concise", "--max-new-tokens", "12",
                "--no-repeat-ngram-size", "2", "--repetition-penalty", "1.5", "--json", "Why?");
        assertEquals(0, r.exitCode(), r::toString);
        com.google.gson.JsonArray ids = CommandsTest.json(r.out()).getAsJsonArray("token_ids");
        java.util.Set<String> bigrams = new java.util.HashSet<>();
        for (int i = 1; i < ids.size(); i++) {
            assertTrue(bigrams.add(ids.get(i - 1).getAsInt() + " " + ids.get(i).getAsInt()), "repeated bigram in " + ids);
        }
    }

    @Test
    void greedyWithASamplingOptionIsAnError() {
        UsageException e = assertThrows(UsageException.class, () -> decoding("--greedy", "--top-k", "5"));
        assertTrue(e.getMessage().contains("--greedy") && e.getMessage().contains("--top-k"), e.getMessage());
        e = assertThrows(UsageException.class, () -> decoding("--temperature", "0", "--seed", "1", "--do-sample"));
        assertTrue(e.getMessage().contains("--temperature 0") && e.getMessage().contains("--seed")
                && e.getMessage().contains("--do-sample"), e.getMessage());
    }

    private static void assertUsage(CliRun r, String expected) {
        assertEquals(2, r.exitCode(), r::toString);
        assertTrue(r.err().contains(expected), "stderr should name '" + expected + "': " + r);
        assertEquals(1, r.err().strip().lines().count(), "one line on stderr: " + r);
    }

    @Test
    void rangesAreCheckedAndNameTheFlag() {
        String m = model.toString();
        assertUsage(CliRun.run("generate", "--model", m, "--preference", "concise", "--temperature", "-1", "Why?"),
                "--temperature: expected a number >= 0");
        assertUsage(CliRun.run("generate", "--model", m, "--preference", "concise", "--temperature", "NaN", "Why?"),
                "--temperature");
        assertUsage(CliRun.run("generate", "--model", m, "--preference", "concise", "--top-k", "-3", "Why?"),
                "--top-k: expected a whole number >= 0");
        assertUsage(CliRun.run("generate", "--model", m, "--preference", "concise", "--top-p", "0", "Why?"),
                "--top-p: expected a number above 0 and at most 1");
        assertUsage(CliRun.run("generate", "--model", m, "--preference", "concise", "--top-p", "1.5", "Why?"),
                "--top-p");
        assertUsage(CliRun.run("generate", "--model", m, "--preference", "concise", "--greedy", "--temperature", "0.5",
                "Why?"), "--greedy asks for greedy decoding, but --temperature applies only to sampling");
    }

    @Test
    void anEmptyOrBlankQuestionIsAnError() {
        String m = model.toString();
        for (String q : List.of("", "   ", "\n\t")) {
            assertUsage(CliRun.run("generate", "--model", m, "--preference", "concise", q), "QUESTION is empty");
            assertUsage(CliRun.run("compare", "--model", m, "--preference", "concise", q), "QUESTION is empty");
            assertUsage(CliRun.run("prompt", "--model", m, "--preference", "concise", q), "QUESTION is empty");
        }
    }

    @Test
    void temperatureZeroGeneratesTheGreedyTokens() {
        String m = model.toString();
        CliRun greedy = CliRun.run("generate", "--model", m, "--preference", "concise", "--max-new-tokens", "5",
                "--json", "Why?");
        CliRun zero = CliRun.run("generate", "--model", m, "--preference", "concise", "--max-new-tokens", "5",
                "--temperature", "0", "--json", "Why?");
        assertEquals(0, zero.exitCode(), zero::toString);
        assertEquals(CommandsTest.json(greedy.out()).get("token_ids"), CommandsTest.json(zero.out()).get("token_ids"));
        assertFalse(zero.out().isBlank());
    }
}
