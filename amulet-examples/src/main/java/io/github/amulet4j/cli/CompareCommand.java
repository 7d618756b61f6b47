package io.github.amulet4j.cli;

import io.github.amulet4j.formats.json.Json;

import io.github.amulet4j.eval.judge.Answer;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.generate.TokenListener;
import io.github.amulet4j.prompt.Preference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** {@code amulet compare QUESTION}: the same question through several methods, side by side, with tokens/s. */
@Command(name = "compare", mixinStandardHelpOptions = true,
        description = "Answer the same question with several methods and show the answers side by side, with tokens/s.")
final class CompareCommand extends GeneratingCommand {

    @Mixin
    PreferenceFlags preference;

    @Parameters(paramLabel = "QUESTION", description = "The user message.")
    String question;

    @Option(names = "--methods", paramLabel = "LIST", defaultValue = "base,pref,la,amulet",
            description = "Comma-separated methods to compare (default: ${DEFAULT-VALUE}).")
    String methods;

    @Option(names = "--width", paramLabel = "COLUMNS",
            description = "Width of the side-by-side table (default: $COLUMNS or 120).")
    Integer width;

    @Option(names = "--json", description = "Print a JSON array, one object per method (the fields of generate --json plus tokens_per_second).")
    boolean json;

    /** One method's answer. */
    record Answer(AlignmentMethod method, GenerationResult result, long nanos) {
        double tokensPerSecond() {
            return nanos > 0 ? result.generatedTokens() / (nanos / 1e9) : 0;
        }
    }

    @Override
    public Integer call() throws Exception {
        // every argument is checked before the model loads
        List<AlignmentMethod> list = Options.methods(methods, "--methods");
        Preference pref = list.stream().allMatch(m -> m == AlignmentMethod.BASE) ? preference.preferenceOrNull()
                : preference.required();
        Conversation conversation = conversationOf(question);
        int tableWidth = json ? 0 : tableWidth();
        List<GenerationConfig> configs = list.stream().map(this::config).toList();
        List<Answer> answers = new ArrayList<>();
        PrintWriter out = out();
        try (AmuletModel model = loadModel()) {
            warmUp(model, conversation, pref, list.get(0), configs.get(0));
            for (int i = 0; i < list.size(); i++) {
                AlignmentMethod m = list.get(i);
                if (!json) {
                    err().println("compare: " + m.id() + "...");
                    err().flush();
                }
                long start = System.nanoTime();
                GenerationResult r = model.generate(request(conversation, pref, configs.get(i)), TokenListener.NONE);
                answers.add(new Answer(m, r, System.nanoTime() - start));
            }
            if (json) {
                JsonArray a = new JsonArray();
                for (Answer ans : answers) {
                    JsonObject o = GenerateCommand.resultJson(model, ans.method(), pref, ans.result(), ans.nanos());
                    o.addProperty("tokens_per_second", Math.round(ans.tokensPerSecond() * 100) / 100.0);
                    a.add(o);
                }
                out.println(Json.write(a));
            } else {
                out.print(table(answers, tableWidth));
            }
        }
        out.flush();
        return AmuletCli.OK;
    }

    /**
     * One short untimed generation before the timed ones, so that the first method timed does not pay for the
     * JIT compiler and the first allocations of the engine (which made it look several times slower).
     */
    private void warmUp(AmuletModel model, Conversation conversation, Preference pref, AlignmentMethod method,
                        GenerationConfig config) {
        GenerationConfig shortRun = config.toBuilder().maxNewTokens(Math.min(4, config.maxNewTokens())).build();
        model.generate(request(conversation, pref, shortRun), TokenListener.NONE);
    }

    private int tableWidth() {
        if (width != null) {
            if (width < MIN_WIDTH) {
                throw new UsageException("--width: must be at least " + MIN_WIDTH + " columns, got " + width);
            }
            return width;
        }
        try {
            String columns = System.getenv("COLUMNS");
            if (columns != null) {
                return Math.max(MIN_WIDTH, Integer.parseInt(columns.trim()));
            }
        } catch (NumberFormatException e) {
            // fall through to the default
        }
        return 120;
    }

    /** Narrowest table {@code --width} accepts. */
    static final int MIN_WIDTH = 20;

    /** Narrowest column of the side-by-side layout; below it the answers are stacked. */
    static final int MIN_COLUMN = 24;

    /**
     * The answers side by side in columns of equal width, each headed by the method and its speed; when
     * {@code width} leaves a column narrower than {@value #MIN_COLUMN}, the answers one below the other instead.
     * Every line is at most {@code width} characters.
     */
    static String table(List<Answer> answers, int width) {
        int n = answers.size();
        int col = (width - 3 * (n - 1)) / n;
        if (col < MIN_COLUMN) {
            return stacked(answers, width);
        }
        List<List<String>> columns = new ArrayList<>();
        int rows = 0;
        for (Answer a : answers) {
            List<String> lines = header(a, col);
            lines.add("-".repeat(col));
            lines.addAll(wrap(a.result().text(), col));
            columns.add(lines);
            rows = Math.max(rows, lines.size());
        }
        StringBuilder sb = new StringBuilder();
        for (int r = 0; r < rows; r++) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < n; c++) {
                List<String> lines = columns.get(c);
                String cell = r < lines.size() ? lines.get(r) : "";
                line.append(cell);
                if (c < n - 1) {
                    line.append(" ".repeat(col - cell.length())).append(" | ");
                }
            }
            sb.append(line.toString().stripTrailing()).append(System.lineSeparator());
        }
        return sb.toString();
    }

    /** The answers one below the other, each under its header, wrapped to {@code width}. */
    static String stacked(List<Answer> answers, int width) {
        StringBuilder sb = new StringBuilder();
        for (Answer a : answers) {
            List<String> lines = header(a, width);
            lines.add("-".repeat(width));
            lines.addAll(wrap(a.result().text(), width));
            lines.add("");
            for (String l : lines) {
                sb.append(l.stripTrailing()).append(System.lineSeparator());
            }
        }
        return sb.toString();
    }

    private static List<String> header(Answer a, int width) {
        List<String> lines = new ArrayList<>(wrap(a.method().id(), width));
        lines.addAll(wrap(String.format(Locale.ROOT, "%d tokens, %.1f tok/s", a.result().generatedTokens(),
                a.tokensPerSecond()), width));
        return lines;
    }

    /** Word-wraps text to {@code width} columns, keeping line breaks and cutting words longer than a line. */
    static List<String> wrap(String text, int width) {
        List<String> out = new ArrayList<>();
        for (String para : text.replace("\t", "    ").split("\r?\n", -1)) {
            StringBuilder line = new StringBuilder();
            for (String word : para.split(" ")) {
                while (word.length() > width) {
                    if (line.length() > 0) {
                        out.add(line.toString());
                        line.setLength(0);
                    }
                    out.add(word.substring(0, width));
                    word = word.substring(width);
                }
                if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                    out.add(line.toString());
                    line.setLength(0);
                }
                if (line.length() > 0) {
                    line.append(' ');
                }
                line.append(word);
            }
            out.add(line.toString());
        }
        return out;
    }
}
