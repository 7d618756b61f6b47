package io.github.amulet4j.cli;

import com.google.gson.JsonObject;
import io.github.amulet4j.align.AlignmentMethod;
import io.github.amulet4j.eval.EvalSettings;
import io.github.amulet4j.eval.Question;
import io.github.amulet4j.djl.AmuletModel;
import io.github.amulet4j.djl.AmuletRequest;
import io.github.amulet4j.djl.Conversation;
import io.github.amulet4j.djl.ModelOptions;
import io.github.amulet4j.generate.GenerationConfig;
import io.github.amulet4j.generate.GenerationResult;
import io.github.amulet4j.prompt.Preference;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.Serializable;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.ServiceLoader;

/**
 * An {@code amulet eval} command line as a distributed run needs it (the amulet-spark module): the same options
 * parsed by the same code, so that its rows are {@code eval}'s. Serializable as the command line's arguments, parsed
 * again on first use in each JVM (a Spark executor loads the model and builds the requests from it).
 */
public final class EvalPlan implements Serializable {

    private static final long serialVersionUID = 1L;

    /** Runs an eval plan on Apache Spark; amulet-spark provides it (a {@link ServiceLoader} service). */
    public interface SparkRunner {
        /** Runs the plan; returns the exit code ({@link AmuletCli#OK}, ...). */
        int run(EvalPlan plan, PrintWriter out, PrintWriter err) throws Exception;
    }

    private final List<String> args;
    private transient EvalCommand command;
    private transient Map<AlignmentMethod, GenerationConfig> configs;

    private EvalPlan(List<String> args, EvalCommand command) {
        this.args = List.copyOf(args);
        this.command = command;
    }

    /** The plan of a parsed {@code eval} command (the whole command line it was parsed from). */
    static EvalPlan of(EvalCommand command) {
        CommandLine root = command.spec.root().commandLine();
        return new EvalPlan(root.getParseResult().originalArgs(), command);
    }

    /**
     * Parses an amulet command line whose command is {@code eval}.
     *
     * @throws UsageException when it is not a valid eval command line
     */
    public static EvalPlan parse(List<String> args) {
        return new EvalPlan(args, parseCommand(args));
    }

    private static EvalCommand parseCommand(List<String> args) {
        CommandLine cli = AmuletCli.commandLine(new StringReader(""));
        CommandLine.ParseResult parsed;
        try {
            parsed = cli.parseArgs(args.toArray(String[]::new));
        } catch (CommandLine.ParameterException e) {
            throw new UsageException(e.getMessage(), e);
        }
        if (!parsed.hasSubcommand() || !(parsed.subcommand().commandSpec().userObject() instanceof EvalCommand c)) {
            throw new UsageException("not an eval command line: " + String.join(" ", args));
        }
        return c;
    }

    private EvalCommand command() {
        if (command == null) {
            command = parseCommand(args);
        }
        return command;
    }

    /** The command line's arguments. */
    public List<String> args() {
        return args;
    }

    /** {@code --spark}: the Spark master (null when absent). */
    public String master() {
        return command().spark;
    }

    /** {@code --spark-conf KEY=VALUE} settings, in order. */
    public Map<String, String> sparkConf() {
        Map<String, String> out = new LinkedHashMap<>();
        for (String kv : command().sparkConf) {
            int eq = kv.indexOf('=');
            if (eq <= 0) {
                throw new UsageException("--spark-conf: expected KEY=VALUE, got '" + kv + "'");
            }
            out.put(kv.substring(0, eq).trim(), kv.substring(eq + 1));
        }
        return out;
    }

    /** {@code --batch}: rows generated together. */
    public int batch() {
        return command().batch;
    }

    /** {@code --partitions}, when given. */
    public OptionalInt partitions() {
        Integer p = command().partitions;
        if (p == null) {
            return OptionalInt.empty();
        }
        if (p < 1) {
            throw new UsageException("--partitions: must be >= 1, got " + p);
        }
        return OptionalInt.of(p);
    }

    /** {@code --dataset} as written (a URI such as {@code hdfs://...} stays one). */
    public String dataset() {
        return original("--dataset", command().dataset);
    }

    /** {@code --out} as written. */
    public String out() {
        return original("--out", command().outFile);
    }

    private String original(String option, Object parsed) {
        List<String> values = command().spec.findOption(option).originalStringValues();
        return values.isEmpty() ? String.valueOf(parsed) : values.get(values.size() - 1);
    }

    /** {@code --limit}: only the first N questions, when given. */
    public OptionalInt limit() {
        Integer l = command().limit;
        if (l == null) {
            return OptionalInt.empty();
        }
        if (l < 1) {
            throw new UsageException("--limit: must be >= 1, got " + l);
        }
        return OptionalInt.of(l);
    }

    /** {@code --overwrite}. */
    public boolean overwrite() {
        return command().overwrite;
    }

    /** Whether progress is reported ({@code --no-progress} absent). */
    public boolean progress() {
        return !command().noProgress;
    }

    /** The question set of {@code --dataset} read as {@code eval} reads it (the paper's JSON array), {@code --limit} applied. */
    public List<Question> questions() throws IOException {
        return command().questions();
    }

    /** {@code --methods}. */
    public List<AlignmentMethod> methods() {
        return Options.methods(command().methods, "--methods");
    }

    /** {@code --preferences} and {@code --preference-file}: name to preference, in order. */
    public Map<String, Preference> preferences() throws IOException {
        return command().preferences();
    }

    /** The settings the rows depend on, as {@code eval} records them next to its results. */
    public EvalSettings settings(Map<String, Preference> preferences) {
        return command().settings(command().configs(methods()), preferences);
    }

    /** The model options of the command line (with the Hub settings of this JVM's environment). */
    public ModelOptions modelOptions() {
        return command().modelOptions();
    }

    /** Loads the model of the command line (no progress output). */
    public AmuletModel loadModel() throws IOException {
        return AmuletModel.load(modelOptions());
    }

    /** The request {@code eval} makes for a question, a method and a preference. */
    public synchronized AmuletRequest request(String question, AlignmentMethod method, Preference preference) {
        if (configs == null) {
            configs = new EnumMap<>(AlignmentMethod.class);
        }
        GenerationConfig config = configs.computeIfAbsent(method, command()::config);
        return command().request(Conversation.of(question).withSystem(command().conversationFlags.system), preference, config);
    }

    /**
     * The row {@code eval} writes for a generation.
     *
     * @param nanos the row's share of its batch's wall time
     */
    public static JsonObject row(String modelName, Question question, AlignmentMethod method, String preferenceName,
                                 Preference preference, GenerationResult result, long nanos) {
        return EvalCommand.row(modelName, new EvalCommand.Task(question, preferenceName, preference, method, List.of()),
                result, nanos);
    }

    /** The {@code base} row {@code generated} recorded for another preference, as {@code eval} copies it. */
    public static JsonObject baseCopy(JsonObject generated, String name, Preference preference) {
        return EvalCommand.baseCopy(generated, name, preference);
    }

    /** For each question index, a generated (not copied) {@code base} row of {@code rows}. */
    public static Map<Integer, JsonObject> baseRowsByIndex(List<JsonObject> rows) {
        return EvalCommand.baseRowsByIndex(rows);
    }

    /** Runs this plan through the {@link SparkRunner} on the class path. */
    int runOnSpark(PrintWriter out, PrintWriter err) throws Exception {
        List<SparkRunner> runners = new ArrayList<>();
        ServiceLoader.load(SparkRunner.class).forEach(runners::add);
        if (runners.isEmpty()) {
            throw new UsageException("--spark: the amulet-spark module is not on the class path (the ./amulet launcher"
                    + " adds it and Spark when --spark is given; or use spark-submit with amulet-spark's jar)");
        }
        return runners.get(0).run(this, out, err);
    }
}
