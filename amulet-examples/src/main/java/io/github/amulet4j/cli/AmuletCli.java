package io.github.amulet4j.cli;

import io.github.amulet4j.djl.tokenizer.HfTokenizer;

import io.github.amulet4j.cli.bench.BenchCommand;
import io.github.amulet4j.djl.hub.HubSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * The {@code amulet} command line: {@code generate}, {@code chat}, {@code compare}, {@code eval},
 * {@code prompt}, {@code models}, {@code random-model}, {@code bench}, {@code judge} and {@code score}.
 *
 * <p>Exit codes: 0 success, 2 bad usage (an unknown option, preset or method, a missing model folder, a
 * dataset in the wrong format), 1 failure at run time. An error is one line on stderr; {@code --verbose}
 * adds the stack trace.
 */
@Command(name = "amulet", mixinStandardHelpOptions = true, version = "amulet 0.1.0-SNAPSHOT",
        description = "Personalise what an LLM writes at decoding time (Amulet, ICLR 2025).")
public final class AmuletCli implements Runnable {

    /**
     * The subcommands, in the order help lists them. Registered by {@link #commandLine(Reader, Map, String[])}: only
     * the one a command line names (picocli reads every option of every command it registers, by reflection: all
     * eleven took 0.5-1 s of a cold start, one about a fifth of that), all of them otherwise.
     */
    private static final List<Class<?>> SUBCOMMANDS = List.of(
            GenerateCommand.class,
            ChatCommand.class,
            CompareCommand.class,
            EvalCommand.class,
            PromptCommand.class,
            ModelsCommand.class,
            RandomModelCommand.class,
            BenchCommand.class,
            ServeCommand.class,
            JudgeCommand.class,
            ScoreCommand.class,
            CommandLine.HelpCommand.class);

    /** Exit code of a successful run. */
    public static final int OK = 0;
    /** Exit code of a failure at run time. */
    public static final int FAILURE = 1;
    /** Exit code of bad usage. */
    public static final int USAGE = 2;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    private final BufferedReader input;
    private final Map<String, String> environment;

    /** A command line reading interactive input ({@code chat}) from standard input. */
    public AmuletCli() {
        this(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    }

    /** A command line reading interactive input from {@code input}, with the process environment. */
    public AmuletCli(Reader input) {
        this(input, System.getenv());
    }

    /**
     * A command line reading interactive input from {@code input}, seeing {@code environment} as its environment
     * (the Hugging Face variables {@code HF_ENDPOINT}, {@code HF_HUB_CACHE}, {@code HF_HOME}, {@code HF_TOKEN}, ...).
     */
    public AmuletCli(Reader input, Map<String, String> environment) {
        this.input = input instanceof BufferedReader b ? b : new BufferedReader(input);
        this.environment = Map.copyOf(environment);
    }

    /** The environment the commands read their variables from (Hub settings, the judge's key). */
    public Map<String, String> environment() {
        return environment;
    }

    /** The Hub settings of this command line's environment. */
    HubSettings hubSettings() {
        return HubSettings.fromEnvironment(environment, Path.of(System.getProperty("user.home")));
    }

    private static volatile boolean standardStreams;

    /** Whether the commands write to the process's own stdout/stderr (the launcher), not to captured streams. */
    boolean isStandardStreams() {
        return standardStreams;
    }

    /**
     * Whether stderr is a terminal, so that progress bars may redraw in place: the launcher tells
     * ({@code -Damulet.stderr.tty}, from {@code [ -t 2 ]}); without it, whether the JVM has a console. Always false
     * for captured streams.
     */
    boolean stderrIsTerminal() {
        if (!standardStreams) {
            return false;
        }
        String told = System.getProperty("amulet.stderr.tty");
        return told != null ? Boolean.parseBoolean(told) : System.console() != null;
    }

    /** Whether the user asked for no colours ({@code NO_COLOR} set and not empty, see no-color.org). */
    boolean noColor() {
        String v = environment.get("NO_COLOR");
        return v != null && !v.isEmpty();
    }

    /** Where {@code chat} reads the user's lines. */
    BufferedReader input() {
        return input;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (generate, chat, compare, eval, prompt, models, random-model, bench, serve, judge)");
    }

    /** Entry point of the launcher. */
    /** The commands that load a model's tokenizer. */
    private static final java.util.Set<String> TOKENIZER_COMMANDS = java.util.Set.of("generate", "chat", "compare",
            "eval", "prompt", "bench", "serve", "judge", "score");

    /**
     * Where {@code --model} names a GGUF file whose tokenizer JSON the weight cache holds (system property
     * {@value io.github.amulet4j.djl.model.RuntimeOptions#WEIGHT_CACHE_PROPERTY}, which the launcher sets): starts
     * its parse before the options are parsed ({@link HfTokenizer#prefetchGguf}). Anything odd: nothing started.
     */
    private static void prefetchTokenizer(String[] args) {
        String dir = System.getProperty(io.github.amulet4j.djl.model.RuntimeOptions.WEIGHT_CACHE_PROPERTY, "").trim();
        if (dir.isEmpty()) {
            return;
        }
        String model = null;
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--model") && i + 1 < args.length) {
                model = args[i + 1];
            } else if (args[i].startsWith("--model=")) {
                model = args[i].substring("--model=".length());
            }
        }
        try {
            if (model != null && model.endsWith(".gguf") && java.nio.file.Files.isRegularFile(Path.of(model))) {
                HfTokenizer.prefetchGguf(Path.of(model),
                        io.github.amulet4j.djl.tokenizer.TokenizerJsonCache.in(Path.of(dir)));
            }
        } catch (RuntimeException e) {
            // (an invalid path: the command's own parsing reports it)
        }
    }

    public static void main(String[] args) {
        configureLogging(args);
        // a command that loads a model starts DJL's tokenizers library now, beside the parsing of its options and the
        // model's header (issue 26, cold start); --help and the commands without a tokenizer do not
        if (args.length > 0 && TOKENIZER_COMMANDS.contains(args[0])
                && Arrays.stream(args).noneMatch(a -> a.equals("--help") || a.equals("-h"))) {
            HfTokenizer.preloadLibrary();
            prefetchTokenizer(args);
        }
        standardStreams = true;
        PrintWriter out = new PrintWriter(new java.io.OutputStreamWriter(System.out, StandardCharsets.UTF_8), true);
        PrintWriter err = new PrintWriter(new java.io.OutputStreamWriter(System.err, StandardCharsets.UTF_8), true);
        int code = execute(args, out, err);
        out.flush();
        err.flush();
        System.exit(code);
    }

    /**
     * Runs the command line with the given streams and returns the exit code (tests call this).
     */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        return execute(args, new InputStreamReader(System.in, StandardCharsets.UTF_8), out, err);
    }

    /**
     * Runs the command line with the given input (for {@code chat}) and output streams and returns the exit code.
     */
    public static int execute(String[] args, Reader in, PrintWriter out, PrintWriter err) {
        return execute(args, in, System.getenv(), out, err);
    }

    /**
     * Runs the command line with the given input, environment (read instead of the process's for the Hugging
     * Face variables) and output streams, and returns the exit code.
     */
    public static int execute(String[] args, Reader in, Map<String, String> environment, PrintWriter out,
                              PrintWriter err) {
        boolean verbose = isVerbose(args);
        CommandLine cli = commandLine(in, environment, args);
        cli.setOut(out);
        cli.setErr(err);
        cli.setParameterExceptionHandler((ex, arguments) -> {
            CommandLine failed = ex.getCommandLine();
            String name = failed.getCommandSpec().qualifiedName();
            err.println(name + ": " + ex.getMessage() + " (see '" + name + " --help')");
            if (verbose) {
                ex.printStackTrace(err);
            }
            err.flush();
            return USAGE;
        });
        cli.setExecutionExceptionHandler((ex, failed, parseResult) -> {
            String name = failed.getCommandSpec().qualifiedName();
            boolean usage = ex instanceof UsageException;
            err.println(name + ": " + (usage ? "" : "error: ") + describe(ex));
            if (verbose) {
                ex.printStackTrace(err);
            } else if (!usage) {
                err.println("(run with --verbose for the stack trace)");
            }
            err.flush();
            return usage ? USAGE : FAILURE;
        });
        return cli.execute(args);
    }

    /** The configured picocli command (without streams and handlers). */
    public static CommandLine commandLine(Reader in) {
        return commandLine(in, System.getenv());
    }

    /** The configured picocli command seeing {@code environment} (without streams and handlers). */
    public static CommandLine commandLine(Reader in, Map<String, String> environment) {
        return commandLine(in, environment, new String[0]);
    }

    /**
     * As {@link #commandLine(Reader, Map)} for running {@code args}: with only the subcommand {@code args[0]} names,
     * or with all of them when it names none (help, the version, an unknown command, {@code help <command>}).
     */
    static CommandLine commandLine(Reader in, Map<String, String> environment, String[] args) {
        CommandLine cli = new CommandLine(new AmuletCli(in, environment));
        String first = args.length > 0 ? args[0] : null;
        boolean named = false;
        for (Class<?> c : SUBCOMMANDS) {
            named |= c != CommandLine.HelpCommand.class && commandName(c).equals(first);
        }
        for (Class<?> c : SUBCOMMANDS) {
            if (!named || commandName(c).equals(first)) {
                cli.addSubcommand(commandName(c), c);
            }
        }
        // (after the subcommands: the setting reaches those registered)
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli;
    }

    private static String commandName(Class<?> c) {
        return c.getAnnotation(Command.class).name();
    }

    /**
     * The message of an exception in the user's words, one line: a file-system error says what happened to which
     * file ("permission denied: out/r.jsonl"), the library's names of settings become flags, and the first cause's
     * message is added when it says something more.
     */
    static String describe(Throwable ex) {
        String msg = fileProblem(ex);
        if (msg == null) {
            msg = ex.getMessage();
        }
        if (msg == null || msg.isBlank()) {
            msg = ex.getClass().getSimpleName();
        }
        Throwable cause = ex.getCause();
        if (cause != null && !(ex instanceof UsageException)) {
            String causeMessage = fileProblem(cause) != null ? fileProblem(cause) : cause.getMessage();
            if (causeMessage != null && !msg.contains(causeMessage)) {
                msg = msg + ": " + causeMessage;
            }
        }
        // a chat template's error speaks of the template's own code (its loops, its variables): no flag names there
        boolean template = ex instanceof io.github.amulet4j.jinja.TemplateException
                || ex.getCause() instanceof io.github.amulet4j.jinja.TemplateException;
        String line = msg.replace('\n', ' ');
        return template ? line : Options.inUserWords(line);
    }

    /** What a file-system exception means, with its file; null for other exceptions. */
    static String fileProblem(Throwable ex) {
        if (!(ex instanceof java.nio.file.FileSystemException f)) {
            return null;
        }
        String what;
        if (ex instanceof java.nio.file.AccessDeniedException) {
            what = "permission denied";
        } else if (ex instanceof java.nio.file.NoSuchFileException) {
            what = "no such file or folder";
        } else if (ex instanceof java.nio.file.FileAlreadyExistsException) {
            what = "already exists";
        } else if (ex instanceof java.nio.file.NotDirectoryException) {
            what = "not a folder";
        } else if (ex instanceof java.nio.file.DirectoryNotEmptyException) {
            what = "folder not empty";
        } else {
            what = f.getReason() != null ? f.getReason() : "file error";
        }
        String file = f.getFile() == null ? "" : f.getFile();
        return what + ": " + file + (f.getOtherFile() == null ? "" : " -> " + f.getOtherFile());
    }

    private static boolean isVerbose(String[] args) {
        List<String> list = Arrays.asList(args);
        return list.contains("--verbose") || list.contains("-v");
    }

    /**
     * Sets slf4j-simple's levels before any logger exists: warnings only (progress and results go to
     * stdout/stderr through the commands), info for this library, debug everywhere with {@code --verbose}.
     * A level set by the user with {@code -D} wins.
     */
    private static void configureLogging(String[] args) {
        boolean verbose = isVerbose(args);
        setIfAbsent("org.slf4j.simpleLogger.logFile", "System.err");
        setIfAbsent("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "debug" : "warn");
        setIfAbsent("org.slf4j.simpleLogger.log.io.github.amulet4j", verbose ? "debug" : "info");
        // DJL warns about CUDA on machines without a GPU driver; the CPU path needs none
        setIfAbsent("org.slf4j.simpleLogger.log.ai.djl", verbose ? "debug" : "error");
        setIfAbsent("org.slf4j.simpleLogger.showThreadName", "false");
        setIfAbsent("org.slf4j.simpleLogger.showLogName", verbose ? "true" : "false");
        setIfAbsent("org.slf4j.simpleLogger.showShortLogName", verbose ? "true" : "false");
    }

    private static void setIfAbsent(String key, String value) {
        if (System.getProperty(key) == null) {
            System.setProperty(key, value);
        }
    }
}
