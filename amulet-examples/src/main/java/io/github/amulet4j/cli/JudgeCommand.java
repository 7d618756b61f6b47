package io.github.amulet4j.cli;

import io.github.amulet4j.eval.judge.AnswerSet;
import io.github.amulet4j.eval.judge.Comparison;
import io.github.amulet4j.formats.json.Json;
import io.github.amulet4j.eval.judge.JudgeClient;
import io.github.amulet4j.eval.judge.JudgeClientSettings;
import io.github.amulet4j.eval.judge.JudgePrompt;
import io.github.amulet4j.eval.judge.JudgeReport;
import io.github.amulet4j.eval.judge.JudgeRun;
import io.github.amulet4j.eval.judge.JudgeSettings;
import io.github.amulet4j.eval.judge.Judgement;
import io.github.amulet4j.eval.judge.JudgementKey;
import io.github.amulet4j.eval.judge.JudgementsFile;
import io.github.amulet4j.eval.judge.OpenAiJudgeClient;
import io.github.amulet4j.eval.judge.WinRateChart;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code amulet judge}: pairwise LLM-judge win rates of a candidate method's answers over a baseline's, from
 * {@code eval} results files. Each (question, preference) is asked in both orders; the judgements go to a
 * resumable JSON-lines file; the report (win / tie / loss, win rate with ties as half, 95% Wilson interval,
 * unparsable count) goes to stdout as a table or {@code --json}, and to an SVG bar chart.
 */
@Command(name = "judge", mixinStandardHelpOptions = true,
        description = "Ask an LLM judge (OpenAI chat-completions API) which of two methods' answers follows the "
                + "preference better, for every question x preference of eval results files, in both orders; report "
                + "win rates with ties as half and 95%% intervals. An interrupted run resumes where it stopped.")
public final class JudgeCommand implements Callable<Integer> {

    @Parameters(paramLabel = "RESULTS.jsonl", arity = "1..*", description = "eval results files (one or more).")
    List<Path> results;

    @Option(names = "--out", paramLabel = "FILE", defaultValue = "judgements.jsonl",
            description = "Judgements, one JSON line per judge prompt; appended to and resumed (default: ${DEFAULT-VALUE}).")
    Path outFile;

    @Option(names = "--candidate", paramLabel = "LIST", split = ",", hideParamSyntax = true, defaultValue = "amulet",
            description = "Candidate methods, comma-separated (default: ${DEFAULT-VALUE}).")
    List<String> candidates;

    @Option(names = "--baseline", paramLabel = "LIST", split = ",", hideParamSyntax = true, defaultValue = "base",
            description = "Baseline methods, comma-separated; every candidate is compared with every baseline "
                    + "(default: ${DEFAULT-VALUE}).")
    List<String> baselines;

    @Option(names = "--preferences", paramLabel = "LIST", split = ",", hideParamSyntax = true,
            description = "Only these preference names (default: every preference in the results files).")
    List<String> preferences;

    @Option(names = "--judge-url", paramLabel = "URL", required = true,
            description = "Base URL of an OpenAI-compatible API, ending in /v1 (https://api.openai.com/v1, "
                    + "http://localhost:8000/v1 for vLLM, http://localhost:11434/v1 for Ollama).")
    String judgeUrl;

    @Option(names = "--judge-model", paramLabel = "NAME", required = true, description = "The judge model.")
    String judgeModel;

    /** The key variable read when {@code --judge-key-env} is not given: sent to OpenAI's API only. */
    static final String DEFAULT_KEY_VARIABLE = "OPENAI_API_KEY";

    @Option(names = "--judge-key-env", paramLabel = "VAR",
            description = "Environment variable holding the API key; unset: no key is sent (default: "
                    + DEFAULT_KEY_VARIABLE + ", sent only to https://api.openai.com; name it here to send it elsewhere). "
                    + "A key goes over plain http only to localhost.")
    String keyEnv;

    @Option(names = "--judge-template", paramLabel = "FILE",
            description = "Judge prompt template with {question}, {preference}, {answer_a}, {answer_b} (default: the "
                    + "built-in MT-Bench-style pairwise prompt).")
    Path templateFile;

    @Option(names = "--judge-concurrency", paramLabel = "N", defaultValue = "4",
            description = "Requests in flight at once (default: ${DEFAULT-VALUE}).")
    int concurrency;

    @Option(names = "--judge-timeout", paramLabel = "SECONDS", defaultValue = "120",
            description = "Longest wait for one reply; a timeout is retried (default: ${DEFAULT-VALUE}).")
    double timeoutSeconds;

    @Option(names = "--judge-retries", paramLabel = "N", defaultValue = "6",
            description = "Retries of a request after a 429, a 5xx or a timeout, waiting what Retry-After asks or an "
                    + "exponential backoff (default: ${DEFAULT-VALUE}).")
    int retries;

    @Option(names = "--judge-max-tokens", paramLabel = "N",
            description = "max_tokens of each request (default: none sent, the server's own).")
    Integer maxTokens;

    @Option(names = "--chart", paramLabel = "FILE",
            description = "SVG bar chart of the win rates (default: --out with .svg instead of .jsonl).")
    Path chartFile;

    @Option(names = "--json", description = "Print the report as one JSON object instead of the table.")
    boolean json;

    @Option(names = "--no-progress", description = "No progress lines on stderr.")
    boolean noProgress;

    @Mixin
    VerboseOption verbose;

    @Spec
    CommandSpec spec;

    @ParentCommand
    AmuletCli cli;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        JudgeClientSettings.Builder client = clientSettings();
        JudgePrompt prompt = prompt();
        List<Comparison> comparisons = comparisons(err);
        JudgeClientSettings probe = client.build();
        JudgeSettings settings = new JudgeSettings(probe.baseUrl().toString(), judgeModel, prompt.sha256(), 0,
                maxTokens);
        Path chart = chartFile != null ? chartFile : chartPath(outFile);

        JudgementsFile file;
        try {
            file = JudgementsFile.open(outFile, settings);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--out: " + e.getMessage(), e);
        }
        Thread hook = new Thread(() -> closeQuietly(file), "amulet-judge-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        Map<JudgementKey, Judgement> judgements = new LinkedHashMap<>(file.existing());
        JudgeRun.Result result = new JudgeRun.Result(0, 0, null, false, false);
        try {
            if (file.truncatedBytes() > 0) {
                err.println("judge: cut a partial last line (" + file.truncatedBytes() + " bytes) from " + outFile
                        + "; that judgement is asked again");
            }
            Map<JudgementKey, Comparison> todo;
            try {
                todo = JudgeRun.todo(comparisons, file);
            } catch (IllegalArgumentException e) {
                throw new UsageException("--out: " + e.getMessage(), e);
            }
            Set<JudgementKey> all = new LinkedHashSet<>();
            comparisons.forEach(c -> all.addAll(c.orders()));
            int total = all.size();
            err.println("judge: " + comparisons.size() + " comparisons, " + total + " judge prompts (both orders); "
                    + (total - todo.size()) + " already in " + outFile + ", " + todo.size() + " to ask " + judgeModel);
            err.flush();
            if (!todo.isEmpty()) {
                String key = apiKey(probe.baseUrl(), err);
                JudgeClientSettings withKey;
                try {
                    withKey = client.apiKey(key).build();
                } catch (IllegalArgumentException e) {
                    throw new UsageException("--judge-url: " + e.getMessage(), e);
                }
                JudgeClient judge = new OpenAiJudgeClient(withKey);
                AtomicInteger done = new AtomicInteger();
                long[] lastPrint = {System.nanoTime()};
                int toAsk = todo.size();
                result = new JudgeRun(judge, prompt, file, concurrency, j -> {
                    judgements.put(j.key(), j);
                    int d = done.incrementAndGet();
                    long now = System.nanoTime();
                    if (!noProgress && (d == toAsk || now - lastPrint[0] > 5_000_000_000L)) {
                        lastPrint[0] = now;
                        err.println("judge: " + d + " of " + toAsk + " asked");
                        err.flush();
                    }
                }).run(todo);
            }
        } finally {
            closeQuietly(file);
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException shuttingDown) {
                // the JVM is already shutting down; the hook has run or will run
            }
        }
        JudgeReport report = JudgeReport.of(comparisons, judgements);
        Files.writeString(chart, WinRateChart.svg(report, "judge: " + judgeModel + "  \u00b7  template "
                + prompt.sha256().substring(0, 12) + "  \u00b7  both orders asked; counts are wins/ties/losses"),
                StandardCharsets.UTF_8);
        int unparsable = report.overall().stream().mapToInt(l -> l.tally().unparsable()).sum();
        Set<JudgementKey> asked = new LinkedHashSet<>();
        comparisons.forEach(c -> asked.addAll(c.orders()));
        long retried = asked.stream().map(judgements::get).filter(j -> j != null && j.firstReply() != null).count();
        long noVerdict = asked.stream().map(judgements::get).filter(j -> j != null && j.unparsable()).count();
        err.println("judge: " + result.asked() + " new judgements in " + outFile + "; " + retried + " replies had no "
                + "verdict at first and were asked again, " + noVerdict + " still had none; " + unparsable
                + " comparisons unparsable (left out of the rates); chart " + chart);
        if (report.pending() > 0) {
            err.println("judge: " + report.pending() + " comparisons not fully judged yet (left out; run the same "
                    + "command to ask them)");
        }
        err.flush();
        out.print(json ? Json.writeWithNulls(report.json()) + "\n" : report.table());
        out.flush();
        if (result.interrupted()) {
            err.println("judge: interrupted (run the same command to resume)");
            err.flush();
            return AmuletCli.FAILURE;
        }
        if (result.failed() > 0) {
            err.println("judge: " + result.failed() + " judge request" + (result.failed() == 1 ? "" : "s") + " failed"
                    + (result.stopped() ? " and the run stopped" : "") + ": " + result.firstFailure()
                    + " (run the same command to ask them again)");
            err.flush();
            return AmuletCli.FAILURE;
        }
        return AmuletCli.OK;
    }

    private JudgeClientSettings.Builder clientSettings() {
        if (concurrency < 1 || concurrency > 256) {
            throw new UsageException("--judge-concurrency: must be in [1, 256], got " + concurrency);
        }
        if (!(timeoutSeconds > 0) || timeoutSeconds > 86_400) {
            throw new UsageException("--judge-timeout: must be a number of seconds in (0, 86400], got " + timeoutSeconds);
        }
        if (retries < 0 || retries > 100) {
            throw new UsageException("--judge-retries: must be in [0, 100], got " + retries);
        }
        if (maxTokens != null && maxTokens < 1) {
            throw new UsageException("--judge-max-tokens: must be >= 1, got " + maxTokens);
        }
        if (keyEnv != null && !keyEnv.matches("[A-Za-z_][A-Za-z0-9_]*")) {
            throw new UsageException("--judge-key-env: expected the name of an environment variable such as "
                    + "OPENAI_API_KEY, got '" + keyEnv + "'");
        }
        if (judgeModel.isBlank()) {
            throw new UsageException("--judge-model: must not be empty");
        }
        URI url;
        try {
            url = new URI(judgeUrl.trim());
        } catch (URISyntaxException e) {
            throw new UsageException("--judge-url: not a URL: " + judgeUrl, e);
        }
        JudgeClientSettings.Builder b = JudgeClientSettings.builder(url, judgeModel.trim())
                .timeout(Duration.ofMillis(Math.max(1, Math.round(timeoutSeconds * 1000)))).maxRetries(retries)
                .maxTokens(maxTokens);
        try {
            b.build();
        } catch (IllegalArgumentException e) {
            throw new UsageException("--judge-url: " + e.getMessage(), e);
        }
        String path = url.getPath() == null ? "" : url.getPath().replaceAll("/+$", "");
        if (!path.endsWith("/v1")) {
            spec.commandLine().getErr().println("judge: --judge-url " + url + " does not end in /v1; requests go to "
                    + b.build().endpoint());
        }
        return b;
    }

    /**
     * The key to send, or null: the variable {@code --judge-key-env} names; without that flag
     * {@value #DEFAULT_KEY_VARIABLE}, and that only to {@code https://api.openai.com} (a key meant for OpenAI never
     * reaches another server by default).
     */
    private String apiKey(URI url, PrintWriter err) {
        String variable = keyEnv != null ? keyEnv : DEFAULT_KEY_VARIABLE;
        String key = cli.environment().get(variable);
        if (key == null || key.isBlank()) {
            err.println("judge: " + variable + " is not set; asking without a key (--judge-key-env names the "
                    + "variable)");
            return null;
        }
        if (keyEnv == null && !isOpenAi(url)) {
            err.println("judge: " + DEFAULT_KEY_VARIABLE + " is sent only to https://api.openai.com, not to " + url
                    + "; asking without a key (--judge-key-env " + DEFAULT_KEY_VARIABLE + " sends it there)");
            return null;
        }
        return key;
    }

    static boolean isOpenAi(URI url) {
        return "https".equalsIgnoreCase(url.getScheme()) && "api.openai.com".equalsIgnoreCase(url.getHost())
                && (url.getPort() == -1 || url.getPort() == 443);
    }

    private JudgePrompt prompt() throws IOException {
        if (templateFile == null) {
            return JudgePrompt.defaultTemplate();
        }
        try {
            return JudgePrompt.read(templateFile);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--judge-template: " + e.getMessage(), e);
        }
    }

    /** Every comparison of every candidate/baseline pair, pairs in the order given, preferences as in the files. */
    private List<Comparison> comparisons(PrintWriter err) throws IOException {
        AnswerSet answers;
        try {
            answers = AnswerSet.read(results);
        } catch (IllegalArgumentException e) {
            throw new UsageException("RESULTS: " + e.getMessage(), e);
        }
        Set<String> methods = answers.methods();
        for (String m : concat(candidates, baselines)) {
            if (!methods.contains(m)) {
                throw new UsageException((candidates.contains(m) ? "--candidate" : "--baseline") + ": method '" + m
                        + "' has no answers in the results files (methods there: " + String.join(", ", methods) + ")");
            }
        }
        Set<String> prefs = answers.preferences();
        if (preferences != null) {
            Set<String> wanted = new LinkedHashSet<>();
            for (String p : preferences) {
                if (p.isBlank()) {
                    continue;
                }
                if (!prefs.contains(p.trim())) {
                    throw new UsageException("--preferences: '" + p.trim() + "' has no answers in the results files "
                            + "(preferences there: " + String.join(", ", prefs) + ")");
                }
                wanted.add(p.trim());
            }
            prefs = wanted;
        }
        List<Comparison> all = new ArrayList<>();
        for (String c : candidates) {
            for (String b : baselines) {
                if (c.equals(b)) {
                    throw new UsageException("--candidate and --baseline both name '" + c + "'; a method is not "
                            + "compared with itself");
                }
                List<Comparison> pair;
                try {
                    pair = answers.comparisons(c, b, prefs);
                } catch (IllegalArgumentException e) {
                    throw new UsageException("RESULTS: " + e.getMessage(), e);
                }
                if (pair.isEmpty()) {
                    throw new UsageException("no question has answers of both '" + c + "' and '" + b + "' under the "
                            + "same preference in the results files");
                }
                Set<String> wanted = prefs;
                long candidateAnswers = answers.all().stream()
                        .filter(a -> a.method().equals(c) && wanted.contains(a.preference())).count();
                if (candidateAnswers > pair.size()) {
                    err.println("judge: " + (candidateAnswers - pair.size()) + " answers of '" + c + "' have no answer "
                            + "of '" + b + "' to compare with; skipped");
                }
                all.addAll(pair);
            }
        }
        return all;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        all.addAll(b);
        return all;
    }

    /** {@code judgements.jsonl} -> {@code judgements.svg}. */
    static Path chartPath(Path out) {
        String name = out.getFileName().toString();
        String base = name.toLowerCase(Locale.ROOT).endsWith(".jsonl") ? name.substring(0, name.length() - 6) : name;
        return out.resolveSibling(base + ".svg");
    }

    private static void closeQuietly(JudgementsFile file) {
        try {
            file.close();
        } catch (IOException e) {
            // closing at shutdown: the judgements written so far are on disk
        }
    }
}
